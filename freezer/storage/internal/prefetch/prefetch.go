// Package prefetch reads an object stored as a sequence of parts (Swift
// DLO segments) by fetching fixed-size chunks of them in parallel and
// handing them to the reader in order. One HTTP stream through a Swift
// proxy is slower than the agent's decoder; several ranged GETs in flight
// are not. Memory is (Parallel+1) × ChunkSize whatever the object's size:
// a worker takes a free buffer before it takes the next chunk, and the
// reader returns a buffer once it has read it.
package prefetch

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"freezer.dev/freezer/freezer/storage/retry"
)

// Part is one stored piece of the object, in order.
type Part struct {
	Name string
	Size int64
	// MD5 is the part's checksum as hex (Swift's listing hash); "" skips
	// the check.
	MD5 string
}

// FetchFunc fills dst with the part's bytes [off, off+len(dst)). It must
// fail (transiently, for a retry) rather than return fewer bytes.
type FetchFunc func(ctx context.Context, part string, off int64, dst []byte) error

// Options tune Open.
type Options struct {
	ChunkSize int // bytes per ranged fetch; ≤ 0 means 8 MiB
	Parallel  int // fetches in flight; ≤ 0 means 4
	Policy    retry.Policy
}

// ErrChecksum is returned when a part's bytes do not match its MD5.
var ErrChecksum = errors.New("checksum mismatch")

// firstChunk caps the first fetch of an object, which the reader waits
// for before anything else can start.
const firstChunk = 1 << 20

var errClosed = errors.New("read of a closed download")

type chunk struct {
	part int
	off  int64
	n    int
}

type result struct {
	buf []byte
	err error
}

// Reader reads the parts in order. It is not safe for concurrent use.
type Reader struct {
	ctx     context.Context
	cancel  context.CancelFunc
	parts   []Part
	chunks  []chunk
	results []chan result
	free    chan []byte
	wg      sync.WaitGroup

	next   int    // index of the chunk to read after cur
	cur    []byte // unread rest of the current chunk
	curBuf []byte // the current chunk's whole buffer, to give back
	part   int    // part of the last chunk taken
	sum    hash.Hash
	err    error

	retries  atomic.Int64
	verified int // parts whose MD5 matched
}

// Retries counts the fetches that were attempted again after a failure.
func (r *Reader) Retries() int64 { return r.retries.Load() }

// Verified counts the parts read so far whose MD5 was checked and matched.
func (r *Reader) Verified() int { return r.verified }

// Open starts fetching and returns the reader. Close it to stop the
// fetches and release the buffers.
func Open(ctx context.Context, parts []Part, fetch FetchFunc, o Options) *Reader {
	size := o.ChunkSize
	if size <= 0 {
		size = 8 << 20
	}
	par := o.Parallel
	if par <= 0 {
		par = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Reader{ctx: ctx, cancel: cancel, parts: parts, part: -1}
	for i, p := range parts {
		for off := int64(0); off < p.Size; {
			n := int64(size)
			if len(r.chunks) == 0 {
				// The reader can start on the object's first bytes (a
				// stream header, a key derivation) while the rest arrives.
				n = min(n, firstChunk)
			}
			n = min(n, p.Size-off)
			r.chunks = append(r.chunks, chunk{part: i, off: off, n: int(n)})
			off += n
		}
	}
	r.results = make([]chan result, len(r.chunks))
	for i := range r.results {
		r.results[i] = make(chan result, 1)
	}
	// par buffers for the workers and one for the reader; allocated on
	// first use, so a small object costs little.
	r.free = make(chan []byte, par+1)
	for range par + 1 {
		r.free <- nil
	}
	jobs := make(chan int)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(jobs)
		for i := range r.chunks {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range par {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for {
				// A buffer first, then a chunk: chunks are handed out in
				// order only to workers that can fetch them, so the chunk
				// the reader waits for is always being fetched.
				var buf []byte
				select {
				case buf = <-r.free:
				case <-ctx.Done():
					return
				}
				i, ok := <-jobs
				if !ok {
					return
				}
				c := r.chunks[i]
				if cap(buf) < size {
					buf = make([]byte, size)
				}
				buf = buf[:c.n]
				p := r.parts[c.part]
				tries := 0
				err := retry.Do(ctx, o.Policy, func(ctx context.Context) error {
					if tries++; tries > 1 {
						r.retries.Add(1)
					}
					return fetch(ctx, p.Name, c.off, buf)
				})
				if err != nil {
					err = fmt.Errorf("fetching %s bytes %d-%d: %w", p.Name, c.off, c.off+int64(c.n)-1, err)
				}
				r.results[i] <- result{buf: buf, err: err}
			}
		}()
	}
	return r
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for len(r.cur) == 0 {
		if r.curBuf != nil {
			r.free <- r.curBuf
			r.curBuf = nil
		}
		if r.next == len(r.chunks) {
			if err := r.endPart(); err != nil {
				r.err = err
				return 0, err
			}
			r.err = io.EOF
			return 0, io.EOF
		}
		var res result
		select {
		case res = <-r.results[r.next]:
		case <-r.ctx.Done():
			r.err = r.ctx.Err()
			return 0, r.err
		}
		if res.err != nil {
			r.err = res.err
			return 0, res.err
		}
		c := r.chunks[r.next]
		if c.part != r.part {
			if err := r.endPart(); err != nil {
				r.err = err
				return 0, err
			}
			r.part = c.part
			r.sum = nil
			if r.parts[c.part].MD5 != "" {
				r.sum = md5.New()
			}
		}
		if r.sum != nil {
			r.sum.Write(res.buf)
		}
		r.next++
		r.cur, r.curBuf = res.buf, res.buf
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// endPart checks the checksum of the part just read, if any.
func (r *Reader) endPart() error {
	if r.part < 0 || r.sum == nil {
		return nil
	}
	p := r.parts[r.part]
	if got := hex.EncodeToString(r.sum.Sum(nil)); got != p.MD5 {
		return fmt.Errorf("%w: %s has MD5 %s, its listing says %s", ErrChecksum, p.Name, got, p.MD5)
	}
	r.verified++
	r.sum = nil
	return nil
}

// Close stops the fetches in flight and waits for them to end.
func (r *Reader) Close() error {
	if r.err == nil || r.err == io.EOF {
		r.err = errClosed
	}
	r.cancel()
	r.wg.Wait()
	return nil
}
