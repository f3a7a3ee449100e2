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

// dataFinder tells where the next data at or after off starts in a sparse
// file: hole is true when [off, next) is a hole (reads as zeros) and next
// is where data, or the end of the file, begins. ok is false when the file
// system cannot tell; the reader then reads as usual.
type dataFinder func(off int64) (next int64, ok bool)

// newChunkReader reads r in chunks of size bytes. When findData can
// locate r's holes (nil: it cannot), a chunk that lies wholly in a hole is
// zeroed in memory instead of read, since reading a hole costs the kernel as much as
// copying zeros into the buffer, for data whose signature is known.
func newChunkReader(r io.Reader, size int, findData dataFinder) *chunkReader {
	c := &chunkReader{ch: make(chan chunk, 1), free: make(chan []byte, 3), stop: make(chan struct{}), done: make(chan struct{})}
	for range 3 {
		c.free <- make([]byte, size)
	}
	go func() {
		defer close(c.done)
		var off int64
		for {
			var buf []byte
			select {
			case buf = <-c.free:
			case <-c.stop:
				return
			}
			var n int
			var err error
			if next, ok := holeUntil(findData, off); ok && next-off >= int64(len(buf)) {
				// Skip len(buf) bytes of the hole in r as well, so that
				// the next read starts after them.
				clear(buf)
				n = len(buf)
				err = skip(r, int64(n))
			} else {
				n, err = io.ReadFull(r, buf)
				if err == io.ErrUnexpectedEOF {
					err = nil
				}
			}
			off += int64(n)
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

// holeUntil returns where the hole at off ends, and false when off is not
// in a hole or holes cannot be found.
func holeUntil(findData dataFinder, off int64) (int64, bool) {
	if findData == nil {
		return 0, false
	}
	next, ok := findData(off)
	if !ok || next <= off {
		return 0, false
	}
	return next, true
}

// skip moves r forward n bytes: by seeking when it can, else by reading.
func skip(r io.Reader, n int64) error {
	if s, ok := r.(io.Seeker); ok {
		_, err := s.Seek(n, io.SeekCurrent)
		return err
	}
	_, err := io.CopyN(io.Discard, r, n)
	return err
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
