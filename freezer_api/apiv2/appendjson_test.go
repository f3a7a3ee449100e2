package apiv2

import (
	"bytes"
	"testing"
)

// AppendString gives the bytes Marshal gives for the same string: every
// escape class, invalid and truncated UTF-8, the line separators, HTML
// characters, and text around each.
func TestAppendStringIsMarshal(t *testing.T) {
	cases := []string{"", "plain", "a\"b\\c", "\b\f\n\r\t\x00\x01\x1f\x7f", "<a href='x'>&amp;</a>",
		"\u2028x\u2029", "é 🙂 中", "\xff", "a\xc3", "\xed\xa0\x80", "x\xe2\x80", "\ufffd", "tail\\"}
	for _, s := range cases {
		checkAppendString(t, s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"a<b>&c \u2028 \"q\" \\ \x01 é 🙂", "\xff\xfe", "\b\f"} {
		f.Add(s)
	}
	f.Fuzz(checkAppendString)
}

func checkAppendString(t *testing.T, s string) {
	want, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("x:")
	got := AppendString(append([]byte(nil), prefix...), s)
	if !bytes.Equal(got[len(prefix):], want) || !bytes.HasPrefix(got, prefix) {
		t.Fatalf("AppendString(%q) = %s, Marshal gives %s", s, got[len(prefix):], want)
	}
}
