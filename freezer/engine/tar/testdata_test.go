//go:build unix

package tar

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testdata/gnu-level{0,1}.tar were written by GNU tar 1.34 with
// --listed-incremental; between them gone.txt was deleted, docs/old was
// renamed to docs/new (an R/T record), b.txt and emptydir were added.
func TestKnownGNUArchivesRestore(t *testing.T) {
	dst := t.TempDir()
	e := New(Options{})
	for _, name := range []string{"gnu-level0.tar", "gnu-level1.tar"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		must(t, err)
		runRestore(t, e, dst, data)
	}
	files := map[string]string{"a.txt": "alpha\n", "b.txt": "beta\n", "bin/run": "#!/bin/sh\n", "docs/new/readme": "old doc\n", "docs/hard": "alpha\n"}
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, p))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	for _, p := range []string{"gone.txt", "docs/old"} {
		if _, err := os.Lstat(filepath.Join(dst, p)); !os.IsNotExist(err) {
			t.Errorf("%s should be gone: %v", p, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dst, "emptydir")); err != nil || !fi.IsDir() {
		t.Errorf("emptydir: %v", err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "a.txt" {
		t.Errorf("link -> %q, %v", l, err)
	}
	a, _ := os.Stat(filepath.Join(dst, "a.txt"))
	h, _ := os.Stat(filepath.Join(dst, "docs/hard"))
	if !os.SameFile(a, h) {
		t.Error("docs/hard is not a hard link of a.txt")
	}
	if want := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC); !a.ModTime().Equal(want) {
		t.Errorf("a.txt mtime %v, want %v", a.ModTime(), want)
	}
	if fi, _ := os.Stat(filepath.Join(dst, "bin/run")); fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/run mode %v", fi.Mode())
	}
}

func TestReadsGNUSnapshotFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "gnu-level1.snar"))
	must(t, err)
	s, err := readSnapshot(bytes.NewReader(data))
	must(t, err)
	for _, d := range []string{".", "./bin", "./docs", "./docs/new", "./emptydir"} {
		if s.dirs[d] == nil {
			t.Errorf("snapshot lacks directory %q (has %d)", d, len(s.dirs))
		}
	}
	names, flags := s.dirs["."].entries()
	if len(names) != 6 || names[0] != "a.txt" || flags[0] != 'N' || names[1] != "b.txt" || flags[1] != 'Y' {
		t.Errorf("root entries %q %q", names, flags)
	}
	if s, err := readSnapshot(bytes.NewReader(nil)); s != nil || err != nil {
		t.Errorf("empty snapshot: %v, %v; want nothing known, no error", s, err)
	}
	for _, bad := range []string{"GNU tar-1.34-1\n0\n", "garbage\n", "GNU tar-1.34-2\n1\x00", "GNU tar-1.34-2\n1\x000\x000\x001\x00", "GNU tar-1.34-2\n1\x000\x000\x001\x001\x002\x003\x00n\x00Yx\x00\x00"} {
		if _, err := readSnapshot(bytes.NewReader([]byte(bad))); err == nil {
			t.Errorf("snapshot %q accepted", bad)
		}
	}
}
