//go:build linux

package rsync

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// evict drops p from the page cache, so the next read is cold.
func evict(b *testing.B, p string) {
	f, err := os.Open(p)
	must(b, err)
	defer f.Close()
	must(b, f.Sync())
	must(b, unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED))
}

// BenchmarkLevel1 measures a level 1 of one large file with 1 % of its
// blocks changed against one cold read of that file, and reports the
// ratio (the goal is at most 2). FREEZER_BENCH_RSYNC_MIB sets the file
// size (default 256).
func BenchmarkLevel1(b *testing.B) {
	mib := 256
	if v, err := strconv.Atoi(os.Getenv("FREEZER_BENCH_RSYNC_MIB")); err == nil && v > 0 {
		mib = v
	}
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	must(b, os.Mkdir(src, 0o755))
	big := filepath.Join(src, "big")
	f, err := os.Create(big)
	must(b, err)
	chunk := randBytes(3, 1<<20)
	for i := range mib {
		chunk[0] = byte(i)
		_, err := f.Write(chunk)
		must(b, err)
	}
	must(b, f.Close())
	e := New(Options{TempDir: dir, Now: func() time.Time { return time.Now().Add(time.Hour) }})
	l0 := runBackup(b, e, src, nil, "gzip", 0)
	f, err = os.OpenFile(big, os.O_WRONLY, 0)
	must(b, err)
	blocks := int64(mib) << 20 / 4096
	for i := int64(0); i < blocks; i += 100 {
		_, err := f.WriteAt([]byte{1, 2, 3}, i*4096)
		must(b, err)
	}
	must(b, f.Close())

	var read, level time.Duration
	for b.Loop() {
		evict(b, big)
		t0 := time.Now()
		rf, err := os.Open(big)
		must(b, err)
		_, err = io.Copy(io.Discard, rf)
		must(b, err)
		rf.Close()
		read += time.Since(t0)

		evict(b, big)
		t0 = time.Now()
		l1 := runBackup(b, e, src, &l0, "gzip", 0)
		level += time.Since(t0)
		if len(l1.payload) > mib<<20/50 {
			b.Fatalf("level 1 is %d bytes", len(l1.payload))
		}
	}
	b.ReportMetric(level.Seconds()/read.Seconds(), "level1/coldread")
	b.ReportMetric(float64(mib)/read.Seconds()*float64(b.N), "coldread-MiB/s")
}
