package agent

// The fault tests of faults_test.go for --engine rsyncv2: a storage
// failing mid-backup commits nothing and the rerun succeeds; a restore
// cancelled mid-way is redone correctly by a rerun.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/engine/rsync"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/faulty"
)

func newRsyncTestAgent(t *testing.T) (*Agent, *faulty.Storage) {
	t.Helper()
	a, f := newTestAgent(t)
	a.Engine = rsync.New(rsync.Options{TempDir: t.TempDir()})
	return a, f
}

func rsyncBackupOpts(src string) Options {
	o := backupOpts(src)
	o.Engine = "rsyncv2"
	return o
}

func rsyncCommitted(t *testing.T, a *Agent) []backup.Ref {
	t.Helper()
	refs, err := a.listRefs(context.Background(), "rsync", "h_b")
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// rsyncMutate changes the tree of testTree between levels: a block
// changed in the middle of big, an append, a delete.
func rsyncMutate(t *testing.T, src string, level int) {
	t.Helper()
	switch level {
	case 1:
		f, err := os.OpenFile(filepath.Join(src, "big"), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("a changed block"), 1<<20+123); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.WriteFile(filepath.Join(src, "gone"), []byte("deleted at level 2"), 0o644); err != nil {
			t.Fatal(err)
		}
	case 2:
		f, err := os.OpenFile(filepath.Join(src, "small"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(strings.Repeat(" appended", 1000))
		f.Close()
		if err := os.Remove(filepath.Join(src, "gone")); err != nil {
			t.Fatal(err)
		}
	}
}

// treeDigest is the tree's paths, types, permissions and contents.
func treeDigest(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			line += " " + hex.EncodeToString(h[:]) + fmt.Sprint(" ", fi.ModTime().Unix())
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestRsyncStorageFailuresNeverCommit: whichever write fails, at level 0
// or on top of a committed level 0, the rsyncv2 backup fails with the
// storage's error, nothing new is listed, and the rerun succeeds at the
// level the failed run would have had.
func TestRsyncStorageFailuresNeverCommit(t *testing.T) {
	for _, r := range []faulty.Rule{
		{Op: storage.OpPut, KeyContains: "/data", After: 1 << 20},
		{Op: storage.OpPut, KeyContains: "/data"},
		{Op: storage.OpPut, KeyContains: "engine_metadata"},
		{Op: storage.OpPut, KeyContains: "metadata/"},
	} {
		for _, level := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s-after%d/level%d", r.KeyContains, r.After, level), func(t *testing.T) {
				a, f := newRsyncTestAgent(t)
				src := testTree(t)
				if level == 1 {
					if _, err := a.Run(context.Background(), rsyncBackupOpts(src)); err != nil {
						t.Fatal(err)
					}
					rsyncMutate(t, src, 1)
				}
				if level == 1 && r.After > 0 {
					r.After = 64 // a level 1 holds only the changes
				}
				f.Fail(r)
				_, err := a.Run(context.Background(), rsyncBackupOpts(src))
				if !errors.Is(err, faulty.ErrInjected) {
					t.Fatalf("err = %v, want the injected storage error", err)
				}
				if refs := rsyncCommitted(t, a); len(refs) != level {
					t.Fatalf("failed backup listed: %v", refs)
				}
				f.Clear()
				res, err := a.Run(context.Background(), rsyncBackupOpts(src))
				if err != nil {
					t.Fatal(err)
				}
				if res.Metadata["level"] != level {
					t.Fatalf("rerun level %v, want %d", res.Metadata["level"], level)
				}
				dst := filepath.Join(t.TempDir(), "dst")
				o := restoreOpts(dst)
				o.Engine = "rsyncv2"
				if _, err := a.Run(context.Background(), o); err != nil {
					t.Fatal(err)
				}
				if want, got := treeDigest(t, src), treeDigest(t, dst); want != got {
					t.Fatalf("restored tree differs:\nwant\n%s\ngot\n%s", want, got)
				}
			})
		}
	}
}

// TestRsyncCancelledRestoreRerun: a restore of a 3-level rsyncv2 chain
// cancelled in the middle of a level fails with the cancellation; a rerun
// into the same directory (with --overwrite) restores the newest state
// exactly.
func TestRsyncCancelledRestoreRerun(t *testing.T) {
	for _, cancelLevel := range []int{0, 1} {
		t.Run(fmt.Sprintf("cancelled in level %d", cancelLevel), func(t *testing.T) {
			a, _ := newRsyncTestAgent(t)
			src := testTree(t)
			for level := 0; level <= 2; level++ {
				rsyncMutate(t, src, level)
				res, err := a.Run(context.Background(), rsyncBackupOpts(src))
				if err != nil {
					t.Fatal(err)
				}
				if res.Metadata["level"] != level {
					t.Fatalf("backup level %v, want %d", res.Metadata["level"], level)
				}
			}
			dst := filepath.Join(t.TempDir(), "dst")
			o := restoreOpts(dst)
			o.Engine = "rsyncv2"
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			eng := a.Engine
			// Level 0 carries the whole of big; a later level only the
			// changed block, so it is cut after its first bytes.
			n := 1 << 20
			if cancelLevel > 0 {
				n = 16
			}
			a.Engine = &cancellingRestore{Engine: eng, level: cancelLevel, n: n, cancel: cancel}
			if _, err := a.Run(ctx, o); err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "context canceled") {
				t.Fatalf("cancelled restore: err = %v", err)
			}
			a.Engine = eng
			// The partly restored directory is not empty any more.
			o.Overwrite = true
			if _, err := a.Run(context.Background(), o); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if want, got := treeDigest(t, src), treeDigest(t, dst); want != got {
				t.Fatalf("restored tree differs:\nwant\n%s\ngot\n%s", want, got)
			}
		})
	}
}

// cancellingRestore cancels the run once the restore of the given level
// (counting the Restore calls) has read n bytes of its stream.
type cancellingRestore struct {
	backup.Engine
	level, calls, n int
	cancel          func()
}

func (e *cancellingRestore) Restore(ctx context.Context, req backup.RestoreRequest, in io.Reader) (backup.Stats, error) {
	call := e.calls
	e.calls++
	if call == e.level {
		in = &cancelAfterRead{r: in, n: e.n, cancel: e.cancel}
	}
	return e.Engine.Restore(ctx, req, in)
}

type cancelAfterRead struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfterRead) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n -= n
	if c.n < 0 {
		c.cancel()
	}
	return n, err
}
