package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func mkTree(t *testing.T, dir string, order []string) {
	t.Helper()
	for _, n := range order {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("content of "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConsistencyChecksumIsOrderIndependentAndSensitive(t *testing.T) {
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	// Same tree, created in different orders (different readdir order on
	// many file systems).
	mkTree(t, a, []string{"z/1", "a/2", "m", "a/b/c"})
	mkTree(t, b, []string{"a/b/c", "m", "a/2", "z/1"})
	if err := os.Symlink("m", filepath.Join(a, "ln")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("m", filepath.Join(b, "ln")); err != nil {
		t.Fatal(err)
	}
	sa, err := ConsistencyChecksum(ctx, a, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := ConsistencyChecksum(ctx, b, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if sa != sb || len(sa) != 64 {
		t.Fatalf("same tree: %s vs %s", sa, sb)
	}
	for name, change := range map[string]func(dir string){
		"content":     func(d string) { os.WriteFile(filepath.Join(d, "m"), []byte("other"), 0o644) },
		"rename":      func(d string) { os.Rename(filepath.Join(d, "m"), filepath.Join(d, "n")) },
		"empty dir":   func(d string) { os.Mkdir(filepath.Join(d, "new"), 0o755) },
		"link target": func(d string) { os.Remove(filepath.Join(d, "ln")); os.Symlink("z", filepath.Join(d, "ln")) },
	} {
		c := t.TempDir()
		mkTree(t, c, []string{"z/1", "a/2", "m", "a/b/c"})
		os.Symlink("m", filepath.Join(c, "ln"))
		change(c)
		sc, err := ConsistencyChecksum(ctx, c, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if sc == sa {
			t.Errorf("%s change not detected", name)
		}
	}
	// Excluded names do not count.
	os.WriteFile(filepath.Join(a, "x.log"), []byte("noise"), 0o644)
	if s, _ := ConsistencyChecksum(ctx, a, []string{"*.log"}, false); s != sa {
		t.Error("excluded file changed the checksum")
	}
	// A single file hashes as the directory its restore produces.
	f := filepath.Join(t.TempDir(), "only")
	os.WriteFile(f, []byte("x"), 0o644)
	r := t.TempDir()
	os.WriteFile(filepath.Join(r, "only"), []byte("x"), 0o644)
	s1, _ := ConsistencyChecksum(ctx, f, nil, false)
	s2, _ := ConsistencyChecksum(ctx, r, nil, false)
	if s1 != s2 {
		t.Error("single-file checksum differs from its restored directory's")
	}
}

// TestConsistencyChecksumWalksLikeTheEngine: a good backup and restore
// passes --consistency-checksum however the tree is given: through a
// symlinked root, with symlinked directories dereferenced, or with an
// exclude pattern naming a path. Each of these walked differently from the
// engine and failed a good restore with an integrity error.
func TestConsistencyChecksumWalksLikeTheEngine(t *testing.T) {
	cases := map[string]func(t *testing.T, src string, o *Options){
		"symlinked root": func(t *testing.T, src string, o *Options) {
			ln := filepath.Join(t.TempDir(), "ln")
			if err := os.Symlink(src, ln); err != nil {
				t.Fatal(err)
			}
			o.PathToBackup = ln
		},
		"dereferenced symlinked directory": func(t *testing.T, src string, o *Options) {
			other := t.TempDir()
			mkTree(t, other, []string{"inner/f", "g"})
			if err := os.Symlink(other, filepath.Join(src, "linked")); err != nil {
				t.Fatal(err)
			}
			// A loop back to the root is skipped by the engine and the
			// checksum alike.
			if err := os.Symlink(src, filepath.Join(src, "a", "loop")); err != nil {
				t.Fatal(err)
			}
			o.DereferenceSymlink = "soft"
		},
		"exclude pattern with a slash": func(t *testing.T, src string, o *Options) {
			mkTree(t, src, []string{"cache/tmp/junk", "cache/keep", "tmp/kept"})
			o.Exclude = []string{"cache/tmp"}
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			a, _ := newTestAgent(t)
			src := t.TempDir()
			mkTree(t, src, []string{"a/1", "b"})
			o := backupOpts(src)
			setup(t, src, &o)
			o.ConsistencyCheck = true
			res, err := a.Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			sum, _ := res.Metadata["consistency_checksum"].(string)
			if sum == "" {
				t.Fatalf("no checksum in %v", res.Metadata)
			}
			ro := restoreOpts(filepath.Join(t.TempDir(), "dst"))
			ro.ConsistencyChecksum = sum
			if _, err := a.Run(context.Background(), ro); err != nil {
				t.Fatalf("good restore failed: %v", err)
			}
		})
	}
}
