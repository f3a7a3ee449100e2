//go:build integration

package swift

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/storage/retry"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

// TestSwiftDefaultRetryOutlasts20sOutage: with the default retry policy a
// 20 s proxy outage in the middle of a 1 GiB payload upload (a backup's
// stream as the agent writes it) is survived, and the object reads back
// byte for byte.
func TestSwiftDefaultRetryOutlasts20sOutage(t *testing.T) {
	fw := newForwarder(t, "127.0.0.1:8080")
	s := newTest(t, outageOptions(t, fw, retry.Policy{}))
	ctx := context.Background()
	size := int64(1 << 30)
	var once sync.Once
	r := &hookReader{r: storagetest.Generator(21, size), at: size / 2, fn: func() {
		once.Do(func() {
			fw.setDown(true)
			time.AfterFunc(20*time.Second, func() { fw.setDown(false) })
		})
	}}
	start := time.Now()
	if err := s.Put(ctx, "o/data", r); err != nil {
		t.Fatalf("Put across a 20 s outage with the default policy: %v", err)
	}
	if d := time.Since(start); d < 20*time.Second {
		t.Fatalf("Put took %v: the outage was not hit", d)
	}
	rc, err := s.Get(ctx, "o/data")
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := storagetest.HashOf(rc)
	rc.Close()
	want, _, _ := storagetest.HashOf(storagetest.Generator(21, size))
	if err != nil || n != size || got != want {
		t.Fatalf("read back %d bytes, hash ok %v, %v", n, got == want, err)
	}
}

// TestSwiftPutMemoryIsBounded: the heap during a payload upload stays
// within (segments in flight + 1) × segment size plus a little, however
// long the stream.
func TestSwiftPutMemoryIsBounded(t *testing.T) {
	const seg, par = 4 << 20, 4
	s := newTest(t, func(o *Options) { o.SegmentSize = seg; o.Parallel = par })
	ctx := context.Background()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	size := int64(160 << 20)
	err := s.Put(ctx, "m/data", storagetest.Generator(5, size))
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(peak.Load()) - int64(base.HeapInuse)
	limit := int64((par+1)*seg + 24<<20)
	t.Logf("heap grew by %d MiB during a %d MiB upload (limit %d MiB)", grew>>20, size>>20, limit>>20)
	if grew > limit {
		t.Fatalf("heap grew by %d bytes, more than %d", grew, limit)
	}
}

// BenchmarkSwiftPut measures payload upload throughput to the loopback
// Swift with 32 MiB segments.
func BenchmarkSwiftPut(b *testing.B) {
	s := newBench(b)
	ctx := context.Background()
	const size = 256 << 20
	b.SetBytes(size)
	for i := 0; b.Loop(); i++ {
		if err := s.Put(ctx, "bench/data", storagetest.Generator(uint64(i), size)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s.Delete(ctx, "bench")
}

// BenchmarkSwiftGet measures payload download throughput.
func BenchmarkSwiftGet(b *testing.B) {
	s := newBench(b)
	ctx := context.Background()
	const size = 256 << 20
	if err := s.Put(ctx, "bench/data", storagetest.Generator(1, size)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	for b.Loop() {
		rc, err := s.Get(ctx, "bench/data")
		if err != nil {
			b.Fatal(err)
		}
		_, n, err := storagetest.HashOf(rc)
		rc.Close()
		if err != nil || n != size {
			b.Fatal(n, err)
		}
	}
	b.StopTimer()
	s.Delete(ctx, "bench")
}

// TestSwiftResumesUploads: see storagetest.RunResume.
func TestSwiftResumesUploads(t *testing.T) {
	s := newTest(t, func(o *Options) { o.SegmentSize = 1 << 20; o.Parallel = 2 })
	storagetest.RunResume(t, s, 1<<20)
}
