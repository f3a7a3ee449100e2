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
	"testing"

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

// BenchmarkBackup measures the engine alone: a level 0 of a cached tree
// written to io.Discard.
func BenchmarkBackup(b *testing.B) {
	src := b.TempDir()
	b.SetBytes(benchTree(b, src))
	e := New(Options{})
	ctx := context.Background()
	for b.Loop() {
		var state bytes.Buffer
		if _, err := e.Backup(ctx, backup.BackupRequest{Path: src, State: &state}, io.Discard); err != nil {
			b.Fatal(err)
		}
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
