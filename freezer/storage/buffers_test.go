package storage_test

import (
	"testing"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/multi"
	"freezer.dev/freezer/freezer/storage/ratelimit"
	"freezer.dev/freezer/freezer/storage/retry"
)

// buffered is a local storage that claims segment buffers, standing in for
// Swift or S3 (whose BufferBytes the integration suites check).
type buffered struct {
	*local.Storage
	n int64
}

func (b buffered) BufferBytes() int64 { return b.n }

func TestBufferBytesSumsThroughDecoratorsAndMulti(t *testing.T) {
	mk := func() *local.Storage {
		st, err := local.New(local.Options{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := buffered{mk(), 160 << 20}
	b := buffered{mk(), 30 << 20}
	m, err := multi.New(ratelimit.Wrap(a, 1<<20, 0), retry.Wrap(b, retry.Policy{}), mk())
	if err != nil {
		t.Fatal(err)
	}
	var top backup.Storage = ratelimit.Wrap(m, 5<<20, 0)
	if got := storage.BufferBytes(top); got != 190<<20 {
		t.Fatalf("BufferBytes = %d, want %d (both buffered storages, through their wrappers)", got, 190<<20)
	}
	if got := storage.BufferBytes(mk()); got != 0 {
		t.Fatalf("local storage buffers %d bytes, want 0", got)
	}
}
