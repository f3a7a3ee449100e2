//go:build unix

package tar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

// buildManyDirs makes a tree with more directories than parallelDirsMin,
// files on both sides of smallFileMax, read-only and private directories
// with contents, and (as root) foreign owners.
func buildManyDirs(t *testing.T, root string) {
	t.Helper()
	sizes := []int{0, 1, 4095, smallFileMax, smallFileMax + 1, 150_000}
	n := 0
	for p := range 20 {
		for m := range 15 {
			dir := filepath.Join(root, fmt.Sprintf("pkg%02d", p), fmt.Sprintf("mod%02d", m))
			must(t, os.MkdirAll(dir, 0o755))
			for f := range n % 4 {
				size := sizes[(n+f)%len(sizes)]
				mustWrite(t, filepath.Join(dir, fmt.Sprintf("f%d", f)), strings.Repeat(string(rune('a'+f)), size), 0o640)
			}
			n++
		}
	}
	for i, mode := range []fs.FileMode{0o555, 0o700, 0o750, 0o511} {
		must(t, os.Chmod(filepath.Join(root, fmt.Sprintf("pkg%02d", i), "mod01"), mode))
	}
	if os.Geteuid() == 0 {
		must(t, os.Lchown(filepath.Join(root, "pkg05", "mod02"), 4321, 8765))
		must(t, os.Lchown(filepath.Join(root, "pkg05", "mod03", "f0"), 4321, 8765))
	}
	buildTree(t, root)
}

// TestParallelRestoreMatchesSerial restores a two-level chain with the
// finisher (small files and directory attributes on workers) and without,
// and requires both to equal the source: contents, modes, times, owners
// and links.
func TestParallelRestoreMatchesSerial(t *testing.T) {
	src := t.TempDir()
	buildManyDirs(t, src)
	e := New(Options{RestoreWorkers: 4})
	l0 := runBackup(t, e, src, nil)

	// Level 1: a renamed directory, deletions, new directories and files.
	must(t, os.Rename(filepath.Join(src, "pkg07"), filepath.Join(src, "pkg07-renamed")))
	must(t, os.RemoveAll(filepath.Join(src, "pkg08", "mod04")))
	must(t, os.Remove(filepath.Join(src, "pkg09", "mod03", "f0")))
	for i := range 30 {
		mustWrite(t, filepath.Join(src, "new", fmt.Sprintf("d%02d", i), "x"), strings.Repeat("n", i*1000), 0o600)
	}
	settle(t, src)
	l1 := runBackup(t, e, src, l0.state)

	var stats []backup.Stats
	for _, workers := range []int{4, 1} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			dst := t.TempDir()
			er := New(Options{RestoreWorkers: workers})
			if workers > 1 && er.workers != workers {
				t.Fatalf("engine has %d workers, want %d", er.workers, workers)
			}
			runRestore(t, er, dst, l0.archive)
			stats = append(stats, runRestore(t, er, dst, l1.archive))
			requireSameTree(t, src, dst)
		})
	}
	if len(stats) == 2 && fmt.Sprint(stats[0]) != fmt.Sprint(stats[1]) {
		t.Errorf("stats differ: parallel %+v, serial %+v", stats[0], stats[1])
	}
	if len(stats) == 2 && stats[0].Dirs < parallelDirsMin {
		t.Errorf("restored %d directories: fewer than %d, so the parallel path was not taken", stats[0].Dirs, parallelDirsMin)
	}
}

// TestFinisherFailureFailsRestore: a file the workers cannot finish fails
// the restore with its name, and the restore does not go on to report
// success or hang.
func TestFinisherFailureFailsRestore(t *testing.T) {
	src := t.TempDir()
	buildManyDirs(t, src)
	e := New(Options{RestoreWorkers: 2})
	l0 := runBackup(t, e, src, nil)

	boom := errors.New("injected write failure")
	e.finishFile = func(j fileJob, warn func(string, ...any)) error {
		if strings.HasSuffix(j.rel, "pkg03/mod05/f0") {
			j.f.Close()
			return fmt.Errorf("writing %s: %w", j.rel, boom)
		}
		return finishFile(j, warn)
	}
	_, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: t.TempDir()}, bytes.NewReader(l0.archive))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "pkg03/mod05/f0") {
		t.Fatalf("restore error = %v, want the injected failure naming pkg03/mod05/f0", err)
	}
}

// TestFinisherWarningsReachStats: a warning raised on a worker (an owner
// that cannot be set) is in the restore's stats.
func TestFinisherWarningsReachStats(t *testing.T) {
	src := t.TempDir()
	mustWrite(t, filepath.Join(src, "a"), "a", 0o644)
	e := New(Options{RestoreWorkers: 2})
	l0 := runBackup(t, e, src, nil)
	e.finishFile = func(j fileJob, warn func(string, ...any)) error {
		warn("%s: cannot change owner: %v", j.rel, "injected")
		return finishFile(j, warn)
	}
	st := runRestore(t, e, t.TempDir(), l0.archive)
	if !strings.Contains(strings.Join(st.Warnings, "\n"), "a: cannot change owner: injected") {
		t.Fatalf("warnings %q lack the worker's", st.Warnings)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestReadAheadStopsOnFailure: when a member fails, the restore returns
// without the read-ahead reading through the rest of a large member (it
// would decode gigabytes before the error were reported).
func TestReadAheadStopsOnFailure(t *testing.T) {
	big := strings.Repeat("x", 32<<20)
	archive := craft(t, member{name: "small", data: "s"}, member{name: "blocked/big", data: big}, member{name: "after", data: "a"})
	dst := t.TempDir()
	mustWrite(t, filepath.Join(dst, "blocked"), "a file where a directory is needed", 0o644)
	in := &countingReader{r: bytes.NewReader(archive)}
	_, err := New(Options{RestoreWorkers: 2}).Restore(context.Background(), backup.RestoreRequest{Dir: dst}, in)
	if err == nil || !strings.Contains(err.Error(), "blocked") {
		t.Fatalf("restore error = %v, want one about blocked", err)
	}
	if n := in.n.Load(); n > 8<<20 {
		t.Fatalf("read %d bytes of a %d-byte archive after the failure: the read-ahead read on", n, len(archive))
	}
}
