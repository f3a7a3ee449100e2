package agent

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// progress draws one self-overwriting status line on a terminal: bytes,
// files, rate and ETA. All its methods are nil-safe so callers need not
// check whether progress is on.
type progress struct {
	w      io.Writer
	label  string
	start  time.Time
	stored *meter // bytes stored (backup) or read from storage (restore)
	files  atomic.Int64
	bytes  atomic.Int64 // file content bytes, from the engine
	total  int64        // expected stored bytes (restore) for the ETA; fixed before drawing starts
	est    atomic.Int64 // estimate of file bytes (backup), 0 = unknown
	stopc  chan struct{}
	wg     sync.WaitGroup
}

// startProgress starts drawing every second. For a restore, total is the
// payload size the ETA counts towards; it is set here, before the drawing
// goroutine reads it, because a later write would race with draw. For a
// backup (total 0), src is walked in the background to estimate the total.
func startProgress(ctx context.Context, w io.Writer, label, src string, total int64) *progress {
	p := &progress{w: w, label: label, start: time.Now(), stored: newCounter(), total: total, stopc: make(chan struct{})}
	if src != "" {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			var sum int64
			filepath.WalkDir(src, func(_ string, d fs.DirEntry, err error) error {
				select {
				case <-p.stopc:
					return filepath.SkipAll
				case <-ctx.Done():
					return filepath.SkipAll
				default:
				}
				if err == nil && d.Type().IsRegular() {
					if fi, err := d.Info(); err == nil {
						sum += fi.Size()
					}
				}
				return nil
			})
			p.est.Store(sum)
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.stopc:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return p
}

func (p *progress) engine(s backup.Stats) {
	if p == nil {
		return
	}
	p.files.Store(s.Files)
	p.bytes.Store(s.Bytes)
}

func (p *progress) draw() {
	el := time.Since(p.start).Seconds()
	if el <= 0 {
		return
	}
	stored := p.stored.n.Load()
	done, total := p.bytes.Load(), p.est.Load()
	if p.total > 0 { // restore: progress is in stored bytes
		done, total = stored, p.total
	}
	rate := float64(done) / el
	eta := "?"
	if total > 0 && rate > 0 && done <= total {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Truncate(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%s: %s, %d files, %s stored, %s/s, ETA %s\033[K",
		p.label, humanBytes(p.bytes.Load()), p.files.Load(), humanBytes(stored), humanBytes(int64(rate)), eta)
}

func (p *progress) stop() {
	if p == nil {
		return
	}
	close(p.stopc)
	p.wg.Wait()
	fmt.Fprint(p.w, "\r\033[K")
}

// statsLine is the one-line summary printed after a backup or restore.
func statsLine(action string, files, in, stored int64, d time.Duration) string {
	ratio := "-"
	if stored > 0 {
		ratio = fmt.Sprintf("%.2f", float64(in)/float64(stored))
	}
	rate := ""
	if s := d.Seconds(); s > 0 {
		rate = fmt.Sprintf(", %s/s", humanBytes(int64(float64(in)/s)))
	}
	return fmt.Sprintf("%s: %d files, %s in, %s stored, ratio %s, %s%s",
		action, files, humanBytes(in), humanBytes(stored), ratio, d.Round(time.Millisecond), rate)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
