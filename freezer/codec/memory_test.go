package codec

import (
	"crypto/sha256"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cycleReader yields n bytes cycling through pattern, without ever holding
// more than the pattern.
type cycleReader struct {
	pattern []byte
	off     int
	n       int64
}

func (c *cycleReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), c.n)]
	k := 0
	for k < len(p) {
		m := copy(p[k:], c.pattern[c.off:])
		k += m
		c.off = (c.off + m) % len(c.pattern)
	}
	c.n -= int64(k)
	return k, nil
}

// heapPeak samples the in-use heap until stop is called.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func TestChainStreamsInBoundedMemory(t *testing.T) {
	// Encode and decode at once through a pipe, so neither side can buffer
	// the whole stream; the heap must stay far below the stream's size.
	total := int64(128 << 20)
	if raceEnabled {
		total = 48 << 20
	}
	pattern := testData(31, 3<<20+1)
	// HeapInuse counts garbage not yet collected, up to GOGC percent above
	// the live heap; under -race the codecs make more of it and the peak
	// wandered around the limit. A low GOGC keeps the figure close to the
	// live heap, which is what must stay bounded.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	for _, tc := range []struct{ comp, enc string }{{Zstd, FZAE1}, {Gzip, OpenSSL}} {
		// A small KDF: Argon2's memory is a fixed, known cost per stream
		// (32 MiB by default) that would only blur what is measured here.
		c, err := NewChain(ChainConfig{Compression: tc.comp, Encryption: tc.enc, Passphrase: testPass,
			Encrypt: EncryptOptions{KDF: KDFParams{Time: 1, MemoryKiB: 1024, Threads: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		stop := heapPeak()
		pr, pw := io.Pipe()
		wantSum := make(chan []byte, 1)
		go func() {
			h := sha256.New()
			w, err := c.Encode(pw)
			if err == nil {
				_, err = io.Copy(w, io.TeeReader(&cycleReader{pattern: pattern, n: total}, h))
				if cerr := w.Close(); err == nil {
					err = cerr
				}
			}
			wantSum <- h.Sum(nil)
			pw.CloseWithError(err)
		}()
		r, err := c.Decode(pr)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, r)
		r.Close()
		peak := stop()
		if err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
		if n != total || string(h.Sum(nil)) != string(<-wantSum) {
			t.Fatalf("%s: decoded %d bytes with a different hash", c.Name(), n)
		}
		// Both codecs' windows and buffers, on both sides of the pipe, and
		// the 3 MiB pattern.
		const limit = 48 << 20
		t.Logf("%s: %d MiB streamed, peak heap in use %d MiB", c.Name(), total>>20, peak>>20)
		if peak > limit {
			t.Errorf("%s: peak heap %d MiB for a %d MiB stream, want < %d MiB", c.Name(), peak>>20, total>>20, limit>>20)
		}
	}
}
