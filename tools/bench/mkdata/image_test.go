package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The image is the same for the same seed and size, holds both data and
// zero extents, rewrite changes 1 % of its blocks, append adds the bytes.
func TestImageRewriteAppend(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := image(p, 42, 40); err != nil {
			t.Fatal(err)
		}
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if len(da) != 40<<20 || !bytes.Equal(da, db) {
		t.Fatalf("images differ or have the wrong size (%d)", len(da))
	}
	zero, data := 0, 0
	for i := 0; i < len(da); i += imageBlock {
		if bytes.Count(da[i:i+imageBlock], []byte{0}) == imageBlock {
			zero++
		} else {
			data++
		}
	}
	if zero < data/4 || data < zero/4 {
		t.Errorf("%d data blocks, %d zero blocks: want both kinds", data, zero)
	}
	if err := rewrite(b, 42, 1); err != nil {
		t.Fatal(err)
	}
	db, _ = os.ReadFile(b)
	changed := 0
	for i := 0; i < len(da); i += imageBlock {
		if !bytes.Equal(da[i:i+imageBlock], db[i:i+imageBlock]) {
			changed++
		}
	}
	if want := len(da) / imageBlock / 100; changed != want {
		t.Errorf("rewrite changed %d blocks, want %d", changed, want)
	}
	if err := appendRandom(b, 42, 2); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(b); fi.Size() != 42<<20 {
		t.Errorf("after append: %d bytes, want %d", fi.Size(), 42<<20)
	}
}
