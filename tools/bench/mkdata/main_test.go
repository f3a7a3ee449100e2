package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// treeDigest hashes every path and content under dir in sorted order.
func treeDigest(t *testing.T, dir string) (string, int) {
	t.Helper()
	h := sha256.New()
	var paths []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		return nil
	})
	sort.Strings(paths)
	files := 0
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintln(h, rel)
		fi, _ := os.Lstat(p)
		if fi.Mode().IsRegular() {
			files++
			f, _ := os.Open(p)
			io.Copy(h, f)
			f.Close()
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil)), files
}

func TestTreeIsDeterministicAndMutateChangesIt(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := run([]string{"full", "--out", d, "--scale", "0.002"}); err != nil {
			t.Fatal(err)
		}
	}
	da, na := treeDigest(t, a)
	db, _ := treeDigest(t, b)
	if da != db {
		t.Fatal("same seed and scale gave different trees")
	}
	if na < 100 {
		t.Fatalf("only %d files at scale 0.002", na)
	}
	if err := run([]string{"mutate", "--out", a, "--gen", "1"}); err != nil {
		t.Fatal(err)
	}
	if dm, _ := treeDigest(t, a); dm == da {
		t.Fatal("mutate changed nothing")
	}
	if err := run([]string{"mutate", "--out", t.TempDir()}); err == nil {
		t.Fatal("mutate of an empty dir should fail")
	}
}
