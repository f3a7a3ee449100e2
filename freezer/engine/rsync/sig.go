package rsync

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"hash/adler32"
	"io"
	"sync"
)

// blockSum is one block's signature: upstream's zlib.adler32 and SHA-1.
type blockSum struct {
	weak   uint32
	strong [sha1.Size]byte
}

// slotSize is a signature's size in the scratch signature store.
const slotSize = 4 + sha1.Size

func (b blockSum) put(p []byte) {
	binary.BigEndian.PutUint32(p, b.weak)
	copy(p[4:], b.strong[:])
}

func getSum(p []byte) blockSum {
	var b blockSum
	b.weak = binary.BigEndian.Uint32(p)
	copy(b.strong[:], p[4:slotSize])
	return b
}

// hashBlocks fills sums with the signatures of data cut into blocks of bs
// bytes (the last may be short), on up to workers goroutines. SHA-1 and
// Adler-32 run at about half a gigabyte per second per core, so a chunk is
// split between cores rather than hashed on the reading goroutine.
func hashBlocks(data []byte, bs, workers int, sums []blockSum) []blockSum {
	n := (len(data) + bs - 1) / bs
	if cap(sums) < n {
		sums = make([]blockSum, n)
	}
	sums = sums[:n]
	// Zero blocks (sparse files, preallocated images) are common and cost a
	// comparison instead of two hashes.
	var zero blockSum
	var z []byte
	if n > 0 {
		z = make([]byte, bs)
		zero = blockSum{weak: adler32.Checksum(z), strong: sha1.Sum(z)}
	}
	one := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b := data[i*bs : min((i+1)*bs, len(data))]
			if len(b) == bs && allZero(b, z) {
				sums[i] = zero
				continue
			}
			sums[i] = blockSum{weak: adler32.Checksum(b), strong: sha1.Sum(b)}
		}
	}
	if workers <= 1 || n < 2*workers || len(data) < 256<<10 {
		one(0, n)
		return sums
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += per {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			one(lo, hi)
		}(lo, min(lo+per, n))
	}
	wg.Wait()
	return sums
}

// sigStore is the run's scratch file of signatures: fixed slots of
// slotSize bytes, so a file's signatures can be reserved when its header is
// written and filled when its bytes are stored. Contiguous puts are
// batched.
type sigStore struct {
	f     io.WriterAt
	buf   []byte
	start int64 // slot of buf[0]
	err   error
}

func newSigStore(f io.WriterAt) *sigStore {
	return &sigStore{f: f, buf: make([]byte, 0, 64<<10)}
}

func (s *sigStore) put(slot int64, b blockSum) {
	if len(s.buf) > 0 && (slot != s.start+int64(len(s.buf)/slotSize) || len(s.buf)+slotSize > cap(s.buf)) {
		s.flush()
	}
	if len(s.buf) == 0 {
		s.start = slot
	}
	var p [slotSize]byte
	b.put(p[:])
	s.buf = append(s.buf, p[:]...)
}

func (s *sigStore) flush() error {
	if len(s.buf) > 0 && s.err == nil {
		_, s.err = s.f.WriteAt(s.buf, s.start*slotSize)
	}
	s.buf = s.buf[:0]
	return s.err
}

// chunkReader reads a file in chunks of whole blocks on its own goroutine,
// one chunk ahead of the consumer, so reading overlaps hashing.
type chunkReader struct {
	ch   chan chunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
}

type chunk struct {
	data []byte
	err  error // io.EOF after the last chunk
}

func newChunkReader(r io.Reader, size int) *chunkReader {
	c := &chunkReader{ch: make(chan chunk, 1), free: make(chan []byte, 3), stop: make(chan struct{}), done: make(chan struct{})}
	for range 3 {
		c.free <- make([]byte, size)
	}
	go func() {
		defer close(c.done)
		for {
			var buf []byte
			select {
			case buf = <-c.free:
			case <-c.stop:
				return
			}
			n, err := io.ReadFull(r, buf)
			if err == io.ErrUnexpectedEOF {
				err = nil
			}
			if n > 0 {
				select {
				case c.ch <- chunk{data: buf[:n]}:
				case <-c.stop:
					return
				}
			}
			if err != nil || n < len(buf) {
				if err == nil {
					err = io.EOF
				}
				select {
				case c.ch <- chunk{err: err}:
				case <-c.stop:
				}
				return
			}
		}
	}()
	return c
}

// next returns the next chunk; release gives its buffer back.
func (c *chunkReader) next() chunk { return <-c.ch }

func (c *chunkReader) release(b []byte) { c.free <- b[:cap(b)] }

// close stops the reader and waits for it.
func (c *chunkReader) close() {
	close(c.stop)
	<-c.done
}

// allZero reports whether p holds only zero bytes; zero is a buffer of
// zeros of any length. bytes.Equal is assembly, many times faster than a
// loop (and not slowed by the race detector).
func allZero(p, zero []byte) bool {
	for len(p) > 0 {
		n := min(len(p), len(zero))
		if !bytes.Equal(p[:n], zero[:n]) {
			return false
		}
		p = p[n:]
	}
	return true
}
