//go:build linux

package rsync

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"freezer.dev/freezer/freezer/backup"
)

// stagedChain is a level 0 and a level 1 holding every kind of entry
// staging handles: blocks patched in place (big, small), a new file, a new
// pair of hard links, a further name of a file the target holds, a
// retargeted symbolic link, a FIFO, and a file where the target has a
// directory (with the deletions below it).
func stagedChain(t *testing.T) (src string, l0, l1 level) {
	src = filepath.Join(t.TempDir(), "src")
	write(t, filepath.Join(src, "big"), randBytes(41, 10*4096+300))
	write(t, filepath.Join(src, "small"), []byte("small at level 0"))
	write(t, filepath.Join(src, "keep"), []byte("unchanged"))
	must(t, os.Symlink("small", filepath.Join(src, "sym")))
	write(t, filepath.Join(src, "was-dir", "sub", "x"), []byte("in a dir"))
	e := New(Options{TempDir: t.TempDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	l0 = runBackup(t, e, src, nil, "gzip", 0)

	f, err := os.OpenFile(filepath.Join(src, "big"), os.O_WRONLY, 0)
	must(t, err)
	f.WriteAt(randBytes(42, 100), 2*4096+10)
	f.WriteAt(randBytes(43, 4096), 7*4096)
	f.Close()
	write(t, filepath.Join(src, "small"), []byte("small, changed at level 1"))
	write(t, filepath.Join(src, "new"), randBytes(44, 9000))
	write(t, filepath.Join(src, "n1"), []byte("linked"))
	must(t, os.Link(filepath.Join(src, "n1"), filepath.Join(src, "n2")))
	must(t, os.Link(filepath.Join(src, "keep"), filepath.Join(src, "keep2")))
	must(t, os.Remove(filepath.Join(src, "sym")))
	must(t, os.Symlink("big", filepath.Join(src, "sym")))
	must(t, unix.Mkfifo(filepath.Join(src, "fifo"), 0o600))
	must(t, os.RemoveAll(filepath.Join(src, "was-dir")))
	write(t, filepath.Join(src, "was-dir"), []byte("a file now"))
	l1 = runBackup(t, e, src, &l0, "gzip", 0)
	es, _, _ := decodeHeader(t, l1.payload)
	patches := 0
	for _, e := range es {
		if isPatch(e) {
			patches++
		}
	}
	if patches < 2 {
		t.Fatalf("level 1 patches %d files, want big and small: %+v", patches, es)
	}
	return src, l0, l1
}

func restoreVerified(e *Engine, l level, dir string, verify func() error, in []byte) (backup.Stats, error) {
	req := backup.RestoreRequest{Dir: dir, Metadata: backup.Metadata{RsyncBlockSize: l.stats.BlockSize}, Verify: verify}
	return e.Restore(context.Background(), req, bytes.NewReader(in))
}

func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".freezer-rsync-") {
			t.Errorf("temporary %s left", p)
		}
		return nil
	})
}

// A failed Verify leaves every file of the target as it was: patched
// files keep their level-0 blocks, nothing new is put in place, no
// temporary stays; the error is Verify's and names the staged entries.
func TestStagedRestoreVerifyFails(t *testing.T) {
	_, l0, l1 := stagedChain(t)
	e := New(Options{TempDir: t.TempDir()})
	dst := t.TempDir()
	runRestore(t, e, l0, dst)
	before := snapshot(t, dst)
	bad := errors.New("checksum mismatch")
	_, err := restoreVerified(e, l1, dst, func() error { return bad }, l1.payload)
	var nr *backup.NotRestoredError
	if !errors.Is(err, bad) || !errors.As(err, &nr) || nr.Unread {
		t.Fatalf("err = %v, want the Verify error naming what was not restored", err)
	}
	for _, p := range []string{"big", "small", "new", "n1", "n2", "keep2", "sym", "fifo", "was-dir"} {
		if !slices.Contains(nr.Paths, p) {
			t.Errorf("%s not named: %v", p, nr.Paths)
		}
	}
	after := snapshot(t, dst)
	for p, n := range after {
		b, ok := before[p]
		if !ok {
			t.Errorf("%s appeared", p)
			continue
		}
		if n.typ.IsDir() {
			continue // a directory's times move with its temporaries
		}
		if b != n {
			t.Errorf("%s changed: was %s, now %s", p, describe(b), describe(n))
		}
	}
	// Deletions are applied as read: was-dir's content may have gone, the
	// files outside it may not.
	for p := range before {
		if _, ok := after[p]; !ok && !strings.HasPrefix(p, "was-dir/") {
			t.Errorf("%s removed", p)
		}
	}
	noTemporaries(t, dst)
}

// With Verify passing, the staged restore gives the same tree as the
// source, hard links shared and the directory in the way replaced.
func TestStagedRestoreVerifyPasses(t *testing.T) {
	src, l0, l1 := stagedChain(t)
	e := New(Options{TempDir: t.TempDir()})
	dst := t.TempDir()
	calls := 0
	ok := func() error { calls++; return nil }
	for _, l := range []level{l0, l1} {
		if _, err := restoreVerified(e, l, dst, ok, l.payload); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Errorf("Verify called %d times, want once per level", calls)
	}
	compareTrees(t, snapshot(t, src), snapshot(t, dst))
	noTemporaries(t, dst)
}

// Damage to the stream itself (cut anywhere, or a byte flipped) with
// staging: the restore fails, and the target holds level 0's version of
// each file or nothing, never a mix, and no temporary.
func TestStagedRestoreDamagedStream(t *testing.T) {
	_, l0, l1 := stagedChain(t)
	e := New(Options{TempDir: t.TempDir()})
	base := t.TempDir()
	runRestore(t, e, l0, base)
	want := snapshot(t, base)
	try := func(what string, p []byte) {
		dst := t.TempDir()
		runRestore(t, e, l0, dst)
		verr := errors.New("checksum mismatch")
		_, err := restoreVerified(e, l1, dst, func() error {
			if bytes.Equal(p, l1.payload) {
				return nil
			}
			return verr
		}, p)
		if err == nil {
			t.Fatalf("%s: restore succeeded", what)
		}
		var nr *backup.NotRestoredError
		if !errors.As(err, &nr) {
			t.Errorf("%s: %v does not name what was not restored", what, err)
		}
		for path, n := range snapshot(t, dst) {
			if n.typ.IsDir() {
				continue
			}
			if w, ok := want[path]; !ok || w.sum != n.sum || w.target != n.target || w.typ != n.typ {
				t.Errorf("%s: %s holds %s, not level 0's version", what, path, describe(n))
			}
		}
		noTemporaries(t, dst)
	}
	for cut := 0; cut < len(l1.payload); cut += max(1, len(l1.payload)/25) {
		try("cut at "+itoa(int64(cut)), l1.payload[:cut])
	}
	for i := 0; i < len(l1.payload); i += max(1, len(l1.payload)/25) {
		p := bytes.Clone(l1.payload)
		p[i] ^= 0x10
		try("flip at "+itoa(int64(i)), p)
	}
}

// Without Verify (an authenticated stream, whose bytes are genuine as
// far as they go) a stream that ends inside a patched file's blocks
// leaves that file neither version: it is removed and named.
func TestInPlacePatchCutIsRemoved(t *testing.T) {
	_, l0, l1 := stagedChain(t)
	es, _, hdrLen := decodeHeader(t, l1.payload)
	if es[0].path != "big" || !isPatch(es[0]) || es[0].deltaBytes < 2*4096 {
		t.Fatalf("first entry %+v: want big's patch", es[0])
	}
	e := New(Options{TempDir: t.TempDir()})
	dst := t.TempDir()
	runRestore(t, e, l0, dst)
	cut := l1.payload[:hdrLen+4096+100] // one block written, the next cut
	_, err := restoreVerified(e, l1, dst, nil, cut)
	var nr *backup.NotRestoredError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &nr) || !slices.Equal(nr.Paths, []string{"big"}) || !nr.Unread {
		t.Fatalf("err = %v, want one naming big and what follows", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "big")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("half-patched big left in place: %v", err)
	}
}
