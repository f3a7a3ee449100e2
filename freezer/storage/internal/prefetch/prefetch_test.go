package prefetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/retry"
)

type store struct {
	objs map[string][]byte
}

func newStore(t *testing.T, sizes ...int) (*store, []Part, []byte) {
	t.Helper()
	s := &store{objs: map[string][]byte{}}
	var parts []Part
	var all []byte
	rng := rand.New(rand.NewPCG(1, 2))
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		name := fmt.Sprintf("seg/%08d", i)
		s.objs[name] = b
		sum := md5.Sum(b)
		parts = append(parts, Part{Name: name, Size: int64(n), MD5: hex.EncodeToString(sum[:])})
		all = append(all, b...)
	}
	return s, parts, all
}

func (s *store) fetch(delay func() time.Duration) FetchFunc {
	return func(ctx context.Context, name string, off int64, dst []byte) error {
		if delay != nil {
			time.Sleep(delay())
		}
		b := s.objs[name]
		if off+int64(len(dst)) > int64(len(b)) {
			return fmt.Errorf("range past the end of %s", name)
		}
		copy(dst, b[off:])
		return nil
	}
}

func TestReadsPartsInOrder(t *testing.T) {
	for _, tc := range []struct {
		sizes      []int
		chunk, par int
	}{
		{[]int{1000, 1000, 1000}, 300, 4},
		{[]int{1 << 16, 17, 0, 5000, 1}, 4096, 3},
		{[]int{10}, 1 << 20, 8},
		{[]int{}, 100, 2},
		{[]int{999, 1001, 4096, 4095}, 97, 1},
		{[]int{5<<20 + 3, 2 << 20}, 3 << 20, 2}, // a first chunk shorter than the rest
	} {
		s, parts, want := newStore(t, tc.sizes...)
		rng := rand.New(rand.NewPCG(3, 4))
		var mu sync.Mutex
		delay := func() time.Duration {
			mu.Lock()
			defer mu.Unlock()
			return time.Duration(rng.IntN(200)) * time.Microsecond
		}
		r := Open(context.Background(), parts, s.fetch(delay), Options{ChunkSize: tc.chunk, Parallel: tc.par})
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("sizes %v chunk %d: read %d bytes (want %d), equal %v, err %v", tc.sizes, tc.chunk, len(got), len(want), bytes.Equal(got, want), err)
		}
	}
}

// TestFirstFetchIsSmall: the reader gets the object's first bytes after
// a fetch of at most firstChunk, not a whole chunk.
func TestFirstFetchIsSmall(t *testing.T) {
	s, parts, want := newStore(t, 20<<20)
	var mu sync.Mutex
	var first []int64 // offset and length of the fetch of byte 0
	fetch := func(ctx context.Context, name string, off int64, dst []byte) error {
		if off == 0 {
			mu.Lock()
			first = append(first, off, int64(len(dst)))
			mu.Unlock()
		}
		return s.fetch(nil)(ctx, name, off, dst)
	}
	r := Open(context.Background(), parts, fetch, Options{ChunkSize: 8 << 20, Parallel: 2})
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
	if len(first) != 2 || first[1] != firstChunk {
		t.Fatalf("fetch of byte 0 (offset, length) = %v, want one of %d bytes", first, firstChunk)
	}
}

func TestChecksumMismatchFails(t *testing.T) {
	s, parts, _ := newStore(t, 5000, 5000)
	s.objs[parts[1].Name][4999] ^= 1 // the stored bytes rot after the listing
	r := Open(context.Background(), parts, s.fetch(nil), Options{ChunkSize: 1024, Parallel: 2})
	defer r.Close()
	_, err := io.Copy(io.Discard, r)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err %v, want a checksum mismatch", err)
	}
}

func TestTransientFailuresAreRetriedAndHardOnesReported(t *testing.T) {
	s, parts, want := newStore(t, 10000)
	var calls atomic.Int64
	flaky := func(ctx context.Context, name string, off int64, dst []byte) error {
		if calls.Add(1)%3 == 0 {
			return storage.MarkTransient(errors.New("503"))
		}
		return s.fetch(nil)(ctx, name, off, dst)
	}
	pol := retry.Policy{Attempts: 5, Base: time.Millisecond, Max: time.Millisecond}
	r := Open(context.Background(), parts, flaky, Options{ChunkSize: 1000, Parallel: 3, Policy: pol})
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("with transient failures: %d bytes, err %v", len(got), err)
	}
	broken := func(ctx context.Context, name string, off int64, dst []byte) error {
		if off >= 5000 {
			return errors.New("403 forbidden")
		}
		return s.fetch(nil)(ctx, name, off, dst)
	}
	r = Open(context.Background(), parts, broken, Options{ChunkSize: 1000, Parallel: 3, Policy: pol})
	got, err = io.ReadAll(r)
	r.Close()
	if err == nil || len(got) != 5000 {
		t.Fatalf("hard failure: read %d bytes, err %v; want the first 5000 bytes and an error", len(got), err)
	}
}

// Memory is bounded: never more than Parallel+1 buffers exist, however
// many chunks there are and however slow the reader is.
func TestBuffersAreBounded(t *testing.T) {
	s, parts, want := newStore(t, 100000)
	var inUse, peak atomic.Int64
	fetch := func(ctx context.Context, name string, off int64, dst []byte) error {
		n := inUse.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer inUse.Add(-1)
		return s.fetch(nil)(ctx, name, off, dst)
	}
	const par = 3
	r := Open(context.Background(), parts, fetch, Options{ChunkSize: 1000, Parallel: par})
	var got bytes.Buffer
	buf := make([]byte, 777)
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Microsecond)
	}
	r.Close()
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatal("wrong bytes")
	}
	if p := peak.Load(); p > par {
		t.Fatalf("%d fetches at once, want at most %d", p, par)
	}
	allocated := 0
	for len(r.free) > 0 {
		if b := <-r.free; b != nil {
			allocated++
		}
	}
	if allocated > par+1 {
		t.Fatalf("%d buffers allocated, want at most %d", allocated, par+1)
	}
}

// Closing mid-stream stops the workers (no goroutine is left blocked).
func TestCloseMidStream(t *testing.T) {
	s, parts, _ := newStore(t, 1<<20)
	r := Open(context.Background(), parts, s.fetch(func() time.Duration { return time.Millisecond }), Options{ChunkSize: 1024, Parallel: 4})
	if _, err := io.CopyN(io.Discard, r, 10000); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return: a worker is stuck")
	}
	if _, err := r.Read(make([]byte, 10)); err == nil {
		t.Fatal("Read after Close succeeded")
	}
}
