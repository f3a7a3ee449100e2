package storage

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"": -1, "-1": -1, "0": 0, "1024": 1024, "10K": 10 << 10, "10k": 10 << 10,
		"120M": 120 << 20, "1G": 1 << 30, "2GiB": 2 << 30, "5MB": 5 << 20, " 7 ": 7,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"abc", "10X", "1.5M", "-x", "99999999999999999999G", "M"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"a", "a/b", "data/tar/h_b/1/0_1/data", ".hidden"} {
		if err := CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q): %v", k, err)
		}
	}
	for _, k := range []string{"", "/a", "a/", "a//b", "..", "a/../b", "./a", "a\x00"} {
		if err := CheckKey(k); err == nil {
			t.Errorf("CheckKey(%q) accepted", k)
		}
	}
	if CheckDir("") != nil {
		t.Error("CheckDir rejects the root")
	}
}

func TestSplitRoot(t *testing.T) {
	for in, want := range map[string][2]string{
		"cont": {"cont", ""}, "cont/p": {"cont", "p"}, "cont/p/q/": {"cont", "p/q"}, "/cont/p": {"cont", "p"},
	} {
		c, p, err := SplitRoot(in)
		if err != nil || c != want[0] || p != want[1] {
			t.Errorf("SplitRoot(%q) = %q %q %v", in, c, p, err)
		}
	}
	for _, in := range []string{"", "/", "c/a//b", "c/../x"} {
		if _, _, err := SplitRoot(in); err == nil {
			t.Errorf("SplitRoot(%q) accepted", in)
		}
	}
}

func TestContextReader(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := ContextReader(ctx, strings.NewReader("abc"))
	b := make([]byte, 1)
	if _, err := r.Read(b); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v", err)
	}
}

func TestIsTransient(t *testing.T) {
	if !IsTransient(MarkTransient(errors.New("x"))) || IsTransient(errors.New("x")) || IsTransient(context.Canceled) || IsTransient(nil) {
		t.Fatal("IsTransient misclassifies")
	}
	if MarkTransient(nil) != nil {
		t.Fatal("MarkTransient(nil) != nil")
	}
}
