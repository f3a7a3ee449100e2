package rsync

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRemoveStaleStages: the temporaries a killed restore left (any
// token, any depth, files and symlinks) go; names that only look alike,
// and directories, stay.
func TestRemoveStaleStages(t *testing.T) {
	dir := t.TempDir()
	mk := func(rel string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("keep")
	mk(".freezer-rsync-stage.8be96bf0ce8f.14")
	mk("a/b/.freezer-rsync-stage.0123456789ab.0")
	mk(".freezer-rsync-stage.notahextoken.1")    // not a token: kept
	mk(".freezer-rsync-stage.0123456789ab.x")    // not a sequence: kept
	mk("a/.freezer-rsync-stage.0123456789ab")    // no sequence: kept
	mk("a/.freezer-rsync-stage.0123456789ab.7x") // kept
	if err := os.Symlink("nowhere", filepath.Join(dir, "a", ".freezer-rsync-stage.aaaaaaaaaaaa.3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".freezer-rsync-stage.bbbbbbbbbbbb.4"), 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := removeStaleStages(root); err != nil {
		t.Fatal(err)
	}
	var left []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			left = append(left, rel)
		}
		return nil
	})
	want := []string{
		".freezer-rsync-stage.0123456789ab.x",
		".freezer-rsync-stage.bbbbbbbbbbbb.4",
		".freezer-rsync-stage.notahextoken.1",
		"a",
		"a/.freezer-rsync-stage.0123456789ab",
		"a/.freezer-rsync-stage.0123456789ab.7x",
		"a/b",
		"keep",
	}
	if !slices.Equal(left, want) {
		t.Fatalf("left %q, want %q", left, want)
	}
}
