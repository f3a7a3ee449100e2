package agent

import (
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// queuePipe is an io.Pipe with a bounded queue of chunks between writer and
// reader, so the two sides run concurrently (an engine reading files while
// the storage uploads) and memory stays at most (depth+2) × size bytes.
// CloseWithError on either side makes the other side's next call fail with
// that error, which is how a failed stage stops the whole pipeline.
type queuePipe struct {
	size  int
	full  chan []byte // chunks ready for the reader
	free  chan []byte // chunks the reader is done with
	done  chan struct{}
	once  sync.Once
	wonce sync.Once

	mu   sync.Mutex
	werr error // why the writer closed (nil = EOF)
	rerr error // why the reader closed

	// writer side, used by one goroutine
	cur []byte
	// reader side, used by one goroutine
	rbuf []byte
	roff int
}

var errReaderClosed = errors.New("pipe reader closed")

func newQueuePipe(depth, size int) *queuePipe {
	if depth < 1 {
		depth = 1
	}
	if size < 4096 {
		size = 4096
	}
	p := &queuePipe{
		size: size,
		full: make(chan []byte, depth),
		free: make(chan []byte, depth+2),
		done: make(chan struct{}),
	}
	return p
}

func (p *queuePipe) buffer() []byte {
	select {
	case b := <-p.free:
		return b[:0]
	default:
		return make([]byte, 0, p.size)
	}
}

// Write queues b; it blocks while the queue is full.
func (p *queuePipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = p.buffer()
		}
		c := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+c]
		b = b[c:]
		n += c
		if len(p.cur) == cap(p.cur) {
			if err := p.send(); err != nil {
				return n - c, err
			}
		}
	}
	return n, nil
}

// ReadFrom queues what it reads from r until r's EOF, reading straight
// into the queue's chunks: io.Copy would read into a buffer of its own
// and copy that into a chunk (measured cost: tools/bench/README.md).
// Errors are as Write's, or r's.
func (p *queuePipe) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if p.cur == nil {
			p.cur = p.buffer()
		}
		n, err := r.Read(p.cur[len(p.cur):cap(p.cur)])
		p.cur = p.cur[:len(p.cur)+n]
		total += int64(n)
		if len(p.cur) == cap(p.cur) {
			if serr := p.send(); serr != nil {
				return total, serr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (p *queuePipe) send() error {
	select {
	case <-p.done:
		return p.readerErr()
	default:
	}
	select {
	case p.full <- p.cur:
		p.cur = nil
		return nil
	case <-p.done:
		return p.readerErr()
	}
}

func (p *queuePipe) readerErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rerr != nil {
		return p.rerr
	}
	return errReaderClosed
}

// CloseWrite flushes and ends the stream: the reader gets err, or io.EOF
// when err is nil. Only the first call counts.
func (p *queuePipe) CloseWrite(err error) error {
	var ferr error
	p.wonce.Do(func() {
		if err == nil && len(p.cur) > 0 {
			ferr = p.send()
		}
		p.mu.Lock()
		p.werr = err
		p.mu.Unlock()
		close(p.full)
	})
	return ferr
}

// Read returns queued bytes, then the writer's error or io.EOF.
func (p *queuePipe) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for p.roff >= len(p.rbuf) {
		if p.rbuf != nil {
			select {
			case p.free <- p.rbuf:
			default:
			}
			p.rbuf, p.roff = nil, 0
		}
		select {
		case c, ok := <-p.full:
			if !ok {
				p.mu.Lock()
				err := p.werr
				p.mu.Unlock()
				if err == nil {
					err = io.EOF
				}
				return 0, err
			}
			p.rbuf, p.roff = c, 0
		case <-p.done:
			return 0, p.readerErr()
		}
	}
	n := copy(b, p.rbuf[p.roff:])
	p.roff += n
	return n, nil
}

// CloseRead stops the reader side: pending and later writes fail with err
// (or a generic "reader closed" error).
func (p *queuePipe) CloseRead(err error) {
	p.once.Do(func() {
		p.mu.Lock()
		p.rerr = err
		p.mu.Unlock()
		close(p.done)
	})
}

// meter counts and hashes the bytes that pass through it; a progress
// reporter reads the count concurrently.
type meter struct {
	n atomic.Int64
	h hash.Hash
}

func newMeter() *meter { return &meter{h: sha256.New()} }

// newCounter is a meter that only counts.
func newCounter() *meter { return &meter{} }

func (m *meter) add(b []byte) {
	if m.h != nil {
		m.h.Write(b)
	}
	m.n.Add(int64(len(b)))
}

// meterWriter passes writes to w through m.
type meterWriter struct {
	m *meter
	w io.Writer
}

func (mw meterWriter) Write(b []byte) (int, error) {
	n, err := mw.w.Write(b)
	mw.m.add(b[:n])
	return n, err
}

// meterReader passes reads from r through m.
type meterReader struct {
	m *meter
	r io.Reader
}

func (mr meterReader) Read(b []byte) (int, error) {
	n, err := mr.r.Read(b)
	mr.m.add(b[:n])
	return n, err
}

// counter counts bytes written (engine input side for stats).
type counter struct{ n atomic.Int64 }

func (c *counter) Write(b []byte) (int, error) {
	c.n.Add(int64(len(b)))
	return len(b), nil
}
