//go:build unix

package tar

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// Owners are restored by name when the name exists here, by number
// otherwise, as GNU tar does for root.
func TestRestoreOwnersByNameThenNumber(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root")
	}
	dst := t.TempDir()
	arc := craft(t,
		member{name: "./named", data: "n", uid: 12345, gid: 12345, uname: "nobody"},
		member{name: "./numeric", data: "n", uid: 4242, gid: 4343, uname: "no-such-user-here"},
	)
	runRestore(t, New(Options{}), dst, arc)
	owner := func(p string) (uint32, uint32) {
		fi, err := os.Lstat(filepath.Join(dst, p))
		must(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		return st.Uid, st.Gid
	}
	if uid, _ := owner("named"); uid != 65534 {
		t.Errorf("named: uid %d, want nobody's 65534", uid)
	}
	if uid, gid := owner("numeric"); uid != 4242 || gid != 4343 {
		t.Errorf("numeric: %d:%d, want 4242:4343", uid, gid)
	}
}

// Numbers beyond the octal fields use GNU base-256, which readers parse.
func TestHeaderLargeNumbers(t *testing.T) {
	var buf bytes.Buffer
	w := newBlockWriter(&buf, 64<<10)
	h := header{name: "./big", typeflag: typeReg, mode: 0o644, uid: 1 << 30, gid: 3, size: 20 << 30, mtime: -86400 * 365, atime: 1 << 40}
	must(t, w.writeHeader(&h))
	must(t, w.flush())
	got, err := tar.NewReader(&buf).Next()
	must(t, err)
	if got.Size != h.size || got.Uid != int(h.uid) || got.ModTime.Unix() != h.mtime || got.Name != h.name {
		t.Fatalf("read back %+v", got)
	}
}

func TestBackupHonoursCancellation(t *testing.T) {
	src := t.TempDir()
	buildTree(t, src)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, state bytes.Buffer
	_, err := New(Options{}).Backup(ctx, backup.BackupRequest{Path: src, State: &state}, &out)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("backup with a cancelled context: %v", err)
	}
}

func TestBackupErrors(t *testing.T) {
	e := New(Options{})
	var out, state bytes.Buffer
	if _, err := e.Backup(context.Background(), backup.BackupRequest{Path: filepath.Join(t.TempDir(), "missing"), State: &state}, &out); err == nil {
		t.Error("backup of a missing path succeeded")
	}
	if _, err := e.Backup(context.Background(), backup.BackupRequest{Path: t.TempDir()}, &out); err == nil {
		t.Error("backup without a State writer succeeded")
	}
	if _, err := e.Backup(context.Background(), backup.BackupRequest{Path: t.TempDir(), State: &state, PrevState: bytes.NewReader([]byte("not a snapshot"))}, &out); err == nil {
		t.Error("backup with a garbage previous state succeeded")
	}
	if _, err := e.Backup(context.Background(), backup.BackupRequest{Path: t.TempDir(), State: &state, Exclude: []string{"[abc"}}, &out); err == nil {
		t.Error("backup with an unterminated bracket pattern succeeded")
	}
}

// A file that grows while it is read is cut at the size in its header
// and one that shrinks is padded, with a warning: the archive stays valid.
func TestFileShrinkingDuringBackupIsPadded(t *testing.T) {
	src := t.TempDir()
	p := filepath.Join(src, "f")
	mustWrite(t, p, "0123456789", 0o644)
	var buf bytes.Buffer
	w := newBlockWriter(&buf, 64<<10)
	err := w.readFrom(bytes.NewReader([]byte("01234")), 10, nil)
	if !errors.Is(err, errShrank) {
		t.Fatalf("short read: %v", err)
	}
	if w.n != blockSize || !bytes.Equal(w.buf[:10], []byte("01234\x00\x00\x00\x00\x00")) {
		t.Fatalf("padding: n=%d %q", w.n, w.buf[:10])
	}
}

var _ = time.Second

func TestWarningsAreBounded(t *testing.T) {
	var ws []string
	for range maxWarnings + 50 {
		ws = addWarning(ws, "w")
	}
	if len(ws) != maxWarnings+1 || ws[maxWarnings] != "further warnings omitted" {
		t.Fatalf("%d warnings, last %q", len(ws), ws[len(ws)-1])
	}
}

func TestProgressReportsGrowingCounts(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	buildTree(t, src)
	mustWrite(t, filepath.Join(src, "big"), string(make([]byte, 3<<20)), 0o644)
	var calls int
	var last backup.Stats
	progress := func(s backup.Stats) {
		if s.Bytes < last.Bytes || s.Files < last.Files {
			t.Errorf("progress went backwards: %+v after %+v", s, last)
		}
		last = s
		calls++
	}
	var out, state bytes.Buffer
	final, err := New(Options{}).Backup(context.Background(), backup.BackupRequest{Path: src, State: &state, Progress: progress}, &out)
	must(t, err)
	if calls < 5 || last.Bytes != final.Bytes || final.Bytes < 3<<20 {
		t.Errorf("backup progress: %d calls, last %+v, final %+v", calls, last, final)
	}
	calls, last = 0, backup.Stats{}
	rs, err := New(Options{}).Restore(context.Background(), backup.RestoreRequest{Dir: dst, Progress: progress}, &out)
	must(t, err)
	if calls < 5 || rs.Bytes != final.Bytes || last.Bytes != rs.Bytes {
		t.Errorf("restore progress: %d calls, last %+v, restored %+v, backed up %+v", calls, last, rs, final)
	}
}

// --one-file-system: a directory on another file system (here procfs,
// reached through a dereferenced symlink) is listed but not descended.
func TestOneFileSystem(t *testing.T) {
	src := t.TempDir()
	mustWrite(t, filepath.Join(src, "f"), "x", 0o644)
	must(t, os.Symlink("/proc/self", filepath.Join(src, "elsewhere")))
	l := runBackup(t, New(Options{}), src, nil, func(r *backupRequest) { r.Dereference = "soft" })
	types := map[string]byte{}
	tr := tar.NewReader(bytes.NewReader(l.archive))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		types[h.Name] = h.Typeflag
	}
	if types["./elsewhere/"] != typeDumpDir || types["./f"] != tar.TypeReg || len(types) != 3 {
		t.Errorf("members: %q", types)
	}
	found := false
	for _, w := range l.stats.Warnings {
		found = found || strings.Contains(w, "different filesystem")
	}
	if !found {
		t.Errorf("no warning about the other file system: %q", l.stats.Warnings)
	}
}
