package agent

import (
	"bytes"
	"context"
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
	q := startProgress(context.Background(), &buf, "backup", t.TempDir())
	q.stop()
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Errorf("stop did not clear the line: %q", buf.String())
	}
}
