//go:build linux

package tar

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// TestBackupIsReproducible: backing up an unchanged tree twice gives the
// same bytes, also when the first run's reads would have updated access
// times (an atime older than the mtime, which relatime updates on read):
// a resumed backup depends on it. On Linux the atimes are left alone.
func TestBackupIsReproducible(t *testing.T) {
	src := t.TempDir()
	old := time.Now().Add(-72 * time.Hour)
	for _, n := range []string{"a", "d/b", "d/e/c"} {
		p := filepath.Join(src, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte(n), 5000), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "d/b", "d/e/c", "d/e", "d"} {
		if err := os.Chtimes(filepath.Join(src, n), old, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	e := New(Options{})
	run := func() []byte {
		t.Helper()
		var out bytes.Buffer
		if _, err := e.Backup(context.Background(), backup.BackupRequest{Path: src, State: io.Discard}, &out); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	first, second := run(), run()
	if !bytes.Equal(first, second) {
		t.Fatal("two backups of an unchanged tree differ")
	}
	if noAtime != 0 {
		fi, err := os.Stat(filepath.Join(src, "d", "b"))
		if err != nil {
			t.Fatal(err)
		}
		if at := time.Unix(fi.Sys().(*syscall.Stat_t).Atim.Unix()); !at.Equal(old.Truncate(time.Second)) && at.After(old.Add(time.Second)) {
			t.Errorf("the backup changed an access time: %v, was %v", at, old)
		}
	}
}
