package agent

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

func TestProgressLineAndStats(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, label: "restore level 1", start: time.Now().Add(-2 * time.Second), stored: newCounter(), stopc: make(chan struct{})}
	p.total = 4 << 20
	p.stored.add(make([]byte, 1<<20))
	p.engine(backup.Stats{Files: 12, Bytes: 3 << 20})
	p.draw()
	line := buf.String()
	for _, want := range []string{"restore level 1", "3.0 MiB", "12 files", "1.0 MiB stored", "/s", "ETA "} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "ETA ?") {
		t.Errorf("no ETA although the total is known: %q", line)
	}
	var nilp *progress
	nilp.engine(backup.Stats{}) // nil-safe
	nilp.stop()

	s := statsLine("backup", 3, 4<<20, 1<<20, 2*time.Second)
	for _, want := range []string{"3 files", "4.0 MiB in", "1.0 MiB stored", "ratio 4.00", "2s", "2.0 MiB/s"} {
		if !strings.Contains(s, want) {
			t.Errorf("stats line %q lacks %q", s, want)
		}
	}
	// startProgress/stop terminate and clear the line.
	buf.Reset()
	q := startProgress(context.Background(), &buf, "backup", t.TempDir(), 0)
	q.stop()
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Errorf("stop did not clear the line: %q", buf.String())
	}
}

// slowGetStorage delays the first read of every payload, so a restore
// lasts past the progress line's first tick.
type slowGetStorage struct {
	backup.Storage
	delay time.Duration
}

func (s slowGetStorage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Storage.Get(ctx, key)
	if err != nil || !strings.HasSuffix(key, "/data") {
		return rc, err
	}
	time.Sleep(s.delay)
	return rc, nil
}

// TestRestoreProgressTotalNoRace: the restore's progress line draws with
// the payload size as its total; run under -race, setting that total after
// the drawing goroutine started was a data race. The restore is held past
// the first tick so a draw happens during it.
func TestRestoreProgressTotalNoRace(t *testing.T) {
	a, _ := newTestAgent(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	a.Storage = slowGetStorage{Storage: a.Storage, delay: 1200 * time.Millisecond}
	a.Progress, a.Stderr = true, &buf
	_, err := a.Run(context.Background(), Options{Action: ActionRestore, Mode: "fs", Engine: "tar", BackupName: "b", Hostname: "h",
		RestoreAbsPath: filepath.Join(t.TempDir(), "dst")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "restore level 0") {
		t.Fatalf("no progress line drawn during the restore: %q", buf.String())
	}
}
