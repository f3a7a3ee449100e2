package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/faulty"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/retry"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

func TestBucketRateWithFakeClock(t *testing.T) {
	now := time.Unix(0, 0)
	var slept time.Duration
	b := newBucket(1000, func() time.Time { return now }, func(_ context.Context, d time.Duration) error {
		slept += d
		now = now.Add(d)
		return nil
	})
	// 20 000 bytes at 1000 B/s, starting with a full 16 KiB burst.
	for range 200 {
		if err := b.WaitN(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
	}
	want := time.Duration(float64(20000-16384) / 1000 * float64(time.Second))
	if d := slept - want; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("slept %v, want %v", slept, want)
	}
}

func TestBucketHonoursContext(t *testing.T) {
	b := NewBucket(1) // one byte a second
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.WaitN(ctx, 1<<20); err == nil {
		t.Fatal("WaitN far beyond the rate returned before the context expired")
	}
}

func newLocal(t *testing.T) backup.Storage {
	s, err := local.New(local.Options{Root: filepath.Join(t.TempDir(), "c")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) backup.Storage { return Wrap(newLocal(t), 1<<30, 1<<30) })
}

func TestWrapWithoutLimitsIsIdentity(t *testing.T) {
	l := newLocal(t)
	if Wrap(l, -1, 0) != l {
		t.Fatal("Wrap without limits added a layer")
	}
}

// TestRealRate measures the upload and download rate on the wall clock:
// 2 s worth of data at 2 MiB/s must take 2 s ± 10 %.
func TestRealRate(t *testing.T) {
	const rate = 2 << 20
	s := Wrap(newLocal(t), rate, rate)
	ctx := context.Background()
	// The first burst is free; send 2 s worth beyond it.
	n := int64(2*rate + rate/10)
	start := time.Now()
	if err := s.Put(ctx, "x", storagetest.Generator(1, n)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 1800*time.Millisecond || d > 2200*time.Millisecond {
		t.Errorf("upload of %d bytes at %d B/s took %v, want 2s ± 10%%", n, rate, d)
	}
	start = time.Now()
	rc, err := s.Get(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || got != n {
		t.Fatalf("read %d, %v", got, err)
	}
	if d := time.Since(start); d < 1800*time.Millisecond || d > 2200*time.Millisecond {
		t.Errorf("download of %d bytes at %d B/s took %v, want 2s ± 10%%", n, rate, d)
	}
}

// TestLimitedPutKeepsRetries: the registry wraps a retried storage in the
// limiter; a transient failure of a Put from a rewindable reader (a
// metadata file) must still be retried under an upload limit.
func TestLimitedPutKeepsRetries(t *testing.T) {
	f := faulty.New(newLocal(t))
	f.Fail(faulty.Rule{Op: storage.OpPut, After: 3, Times: 1, Err: storage.MarkTransient(errors.New("connection cut"))})
	noWait := func(context.Context, time.Duration) error { return nil }
	s := Wrap(retry.Wrap(f, retry.Policy{Attempts: 3, Sleep: noWait}), 1<<30, 0)
	ctx := context.Background()
	want := "metadata that fails once"
	if err := s.Put(ctx, "m", bytes.NewReader([]byte(want))); err != nil {
		t.Fatalf("limited Put with one transient failure: %v", err)
	}
	if n := f.Calls(storage.OpPut); n != 2 {
		t.Fatalf("%d Puts reached the storage, want 2", n)
	}
	rc, err := s.Get(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != want {
		t.Fatalf("read back %q, %v; want %q", got, err, want)
	}
}
