//go:build unix

package tar

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// benchTree writes a mixed tree: thousands of small files in nested
// directories and a few large ones. It returns the total content size.
func benchTree(b *testing.B, root string) int64 {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]byte, 8<<20)
	for i := range pool {
		pool[i] = byte(rng.Uint32())
	}
	var total int64
	write := func(p string, n int) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		off := rng.IntN(len(pool) - n)
		if err := os.WriteFile(p, pool[off:off+n], 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(n)
	}
	for i := range 4000 {
		write(filepath.Join(root, fmt.Sprintf("d%02d", i%40), fmt.Sprintf("s%02d", i%7), fmt.Sprintf("f%05d", i)), 512+rng.IntN(24<<10))
	}
	for i := range 8 {
		write(filepath.Join(root, "big", fmt.Sprintf("b%d", i)), 7<<20)
	}
	return total
}

// benchSizes remembers each benchmark's tree size for reportCPURate.
var benchSizes = map[string]int64{}

func benchBytes(b *testing.B) int64 { return benchSizes[b.Name()] }

// BenchmarkBackup measures the engine alone: a level 0 of a cached tree
// written to io.Discard.
func BenchmarkBackup(b *testing.B) {
	src := b.TempDir()
	size := benchTree(b, src)
	b.SetBytes(size)
	benchSizes[b.Name()] = size
	e := New(Options{})
	ctx := context.Background()
	cpu0 := cpuTime()
	var n int64
	for b.Loop() {
		var state bytes.Buffer
		if _, err := e.Backup(ctx, backup.BackupRequest{Path: src, State: &state}, io.Discard); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportCPURate(b, n, cpu0)
}

// cpuTime is the process's user+system CPU time: on a shared machine the
// wall-clock MB/s depends on the neighbours, MB per CPU second much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPURate(b *testing.B, iterations int64, cpu0 time.Duration) {
	used := cpuTime() - cpu0
	if used > 0 && b.N > 0 {
		b.ReportMetric(float64(benchBytes(b)*iterations)/1e6/used.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkRestore measures extraction of that tree from memory to disk.
func BenchmarkRestore(b *testing.B) {
	src := b.TempDir()
	b.SetBytes(benchTree(b, src))
	e := New(Options{})
	ctx := context.Background()
	var arc, state bytes.Buffer
	if _, err := e.Backup(ctx, backup.BackupRequest{Path: src, State: &state}, &arc); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		dst, err := os.MkdirTemp(b.TempDir(), "r")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := e.Restore(ctx, backup.RestoreRequest{Dir: dst}, bytes.NewReader(arc.Bytes())); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dst)
		b.StartTimer()
	}
}
