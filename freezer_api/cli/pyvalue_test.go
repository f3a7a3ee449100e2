package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// testdata/python.json holds what Python 3.11 and PyYAML 6 print for one
// document (written by /usr/bin/python3 with pprint, repr and safe_dump).
func pythonAnswers(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("testdata/python.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReprAndPformatAsPython(t *testing.T) {
	want := pythonAnswers(t)
	v, err := decodeJSON([]byte(want["in"]))
	if err != nil {
		t.Fatal(err)
	}
	if got := pyRepr(v, false); got != want["repr"] {
		t.Errorf("repr:\n got %s\nwant %s", got, want["repr"])
	}
	if got := pformat(v); got != want["pformat"] {
		t.Errorf("pformat:\n got %s\nwant %s", got, want["pformat"])
	}
}

func TestYAMLAsPyYAML(t *testing.T) {
	want := pythonAnswers(t)
	var b strings.Builder
	yamlOne(&b, "Actions", strings.Repeat("a\n  b", 20))
	if b.String() != want["yaml1"] {
		t.Errorf("folded double-quoted scalar:\n got %q\nwant %q", b.String(), want["yaml1"])
	}
	b.Reset()
	yamlList(&b, []string{"k", "n", "e", "y", "s", "# Jobs", "f"},
		[][]any{{"2026-01-01", nil, "", "yes", strings.Repeat("plain text ", 10), Int(3), Float(1.5)}})
	if b.String() != want["yaml2"] {
		t.Errorf("list:\n got %q\nwant %q", b.String(), want["yaml2"])
	}
}

func TestFloatRepr(t *testing.T) {
	for f, want := range map[float64]string{5: "5.0", 0.1: "0.1", 1e16: "1e+16", 1.5e-7: "1.5e-07", 123456.789: "123456.789", -2: "-2.0"} {
		if got := floatRepr(f); got != want {
			t.Errorf("floatRepr(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestJSONErrorsWordedAsPython(t *testing.T) {
	for in, want := range map[string]string{
		`{bad`:                 "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
		"\n":                   "Expecting value: line 2 column 1 (char 1)",
		`{"a":1} x`:            "Extra data: line 1 column 9 (char 8)",
		`{"description": "x",`: "Expecting property name enclosed in double quotes: line 1 column 21 (char 20)",
		`{"a": [1, 2`:          "Expecting ',' delimiter: line 1 column 12 (char 11)",
		`{"a"`:                 "Expecting ':' delimiter: line 1 column 5 (char 4)",
		`["ab`:                 "Unterminated string starting at: line 1 column 2 (char 1)",
	} {
		_, err := decodeJSON([]byte(in))
		if err == nil {
			t.Fatalf("%q parsed", in)
		}
		if got := pyJSONError([]byte(in), err); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

func TestTableWrapsAtMaxWidth(t *testing.T) {
	var b strings.Builder
	o := fmtOptions{Format: "table", MaxWidth: 30}
	if err := emitList(&b, []string{"ID", "Description"}, [][]any{{Int(1), "a rather long description of a job"}}, o, nil); err != nil {
		t.Fatal(err)
	}
	want := "+----+-----------------------+\n| ID | Description           |\n+----+-----------------------+\n|  1 | a rather long         |\n|    | description of a job  |\n+----+-----------------------+\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
