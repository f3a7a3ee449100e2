//go:build unix

package tar

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

// TestHugeListingMemoryIsBounded: a directory listing of tiny entries
// ("Ya\x00" over and over, a few bytes of gzip per megabyte) costs about
// its own size to restore, not a Go value per entry (which took ~28 times
// the listing's size).
func TestHugeListingMemoryIsBounded(t *testing.T) {
	const size = 8 << 20
	arc := craft(t, member{name: "./", flag: typeDumpDir, data: strings.Repeat("Ya\x00", size/3) + "\x00"})
	_, target := sandbox(t)
	mustWrite(t, filepath.Join(target, "a"), "kept: listed", 0o644)
	mustWrite(t, filepath.Join(target, "b"), "purged: not listed", 0o644)
	e := New(Options{BufferSize: 64 << 10})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := restoreErr(e, target, arc)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	// Everything allocated, whether freed since or not: an upper bound of
	// the growth of the heap that does not depend on when the GC ran.
	got, limit := after.TotalAlloc-before.TotalAlloc, uint64(2*size)
	t.Logf("restoring a %d MiB listing allocated %.1f MiB", size>>20, float64(got)/(1<<20))
	if got > limit {
		t.Errorf("restoring a %d MiB listing allocated %d MiB, want at most %d MiB", size>>20, got>>20, limit>>20)
	}
	if _, err := os.Stat(filepath.Join(target, "a")); err != nil {
		t.Errorf("listed entry purged: %v", err)
	}
	if _, err := os.Stat(filepath.Join(target, "b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unlisted entry kept: %v", err)
	}
}

// TestTooManyRenamesRefused: a restore takes no more rename records in a
// listing than a backup writes (applying them is quadratic), and says so.
func TestTooManyRenamesRefused(t *testing.T) {
	var b bytes.Buffer
	for i := range maxRenames + 1 {
		fmt.Fprintf(&b, "R./d%d\x00T./e%d\x00", i, i)
	}
	b.WriteByte(0)
	_, target := sandbox(t)
	err := restoreErr(New(Options{}), target, craft(t, member{name: "./", flag: typeDumpDir, data: b.String()}))
	if !errors.Is(err, errTooManyRenames) || errors.Is(err, backup.ErrCorrupt) {
		t.Fatalf("err = %v, want %v (not marked corrupt)", err, errTooManyRenames)
	}
}
