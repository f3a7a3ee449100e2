//go:build integration

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// peakRSS runs a backup of src, then its restore, and returns the agent's
// peak RSS in bytes for each.
func peakRSS(t *testing.T, src string, args ...string) (backupRSS, restoreRSS int64) {
	t.Helper()
	store := t.TempDir()
	base := []string{"--storage", "local", "--container", store, "--backup-name", "mem", "--nosync", "--log-file", filepath.Join(t.TempDir(), "log")}
	// GNU time forks the agent and reports its own rusage. The rusage of
	// a child this process starts directly is no good: Go starts children
	// with vfork semantics, so until exec the child shares this test
	// process's memory, and the kernel counts its high-water mark, which
	// other tests in this binary raise, as the child's peak.
	run := func(extra ...string) int64 {
		out := filepath.Join(t.TempDir(), "rss")
		cmd := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", out, binary}, append(append(append([]string{}, base...), extra...), args...)...)...)
		cmd.Env = []string{"HOME=" + t.TempDir()}
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", extra, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			t.Fatalf("GNU time wrote %q: %v", b, err)
		}
		return kib * 1024
	}
	backupRSS = run("--path-to-backup", src)
	restoreRSS = run("--action", "restore", "--restore-abs-path", filepath.Join(t.TempDir(), "dst"))
	return backupRSS, restoreRSS
}

func mkData(t *testing.T, mib int) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(mib), 1))
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(r.Uint32())
	}
	for f := 0; f < mib/8; f++ {
		fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%03d", f)))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 8; i++ {
			block[i] = byte(f) // every file differs
			if _, err := fh.Write(block); err != nil {
				t.Fatal(err)
			}
		}
		fh.Close()
	}
	return dir
}

// TestMemoryIsFlat: the agent streams, so its peak RSS does not grow with
// the data size and stays below the segment budget + 64 MiB.
func TestMemoryIsFlat(t *testing.T) {
	small, large := mkData(t, 128), mkData(t, 512)
	for _, args := range [][]string{
		{"--compression", "zstd"},
		{"--compression", "gzip", "--encryption-format", "openssl", "--encrypt-pass-file", passFile(t)},
	} {
		bs, rs := peakRSS(t, small, args...)
		bl, rl := peakRSS(t, large, args...)
		t.Logf("%v: peak RSS backup %d → %d MiB, restore %d → %d MiB for 128 → 512 MiB", args, bs>>20, bl>>20, rs>>20, rl>>20)
		for _, c := range []struct {
			what         string
			small, large int64
		}{{"backup", bs, bl}, {"restore", rs, rl}} {
			if c.large > c.small+16<<20 {
				t.Errorf("%v %s: peak RSS grew from %d to %d MiB with the data", args, c.what, c.small>>20, c.large>>20)
			}
			if c.large > 100<<20 {
				t.Errorf("%v %s: peak RSS %d MiB, want ≤ 100 MiB", args, c.what, c.large>>20)
			}
		}
	}
}

func passFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(p, []byte("memory\n"), 0o600)
	return p
}
