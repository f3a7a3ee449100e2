package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// noEOF turns a bare io.EOF met while reading a header into
// io.ErrUnexpectedEOF: an empty stream is a truncated one, not an empty
// result.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// wrapReader names the algorithm in read errors and turns a panic inside a
// third-party decoder into an error, so hostile input can never crash the
// agent from Read.
func wrapReader(r io.Reader, closeFn func() error, name string) io.ReadCloser {
	return &namedReader{r: r, closeFn: closeFn, name: name}
}

type namedReader struct {
	r       io.Reader
	closeFn func() error
	name    string
	closed  bool
	// input, when set, counts the compressed bytes read, so that an empty
	// input is reported as truncated rather than as an empty result.
	input *countReader
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

func (n *namedReader) Read(p []byte) (k int, err error) {
	if n.closed {
		return 0, fmt.Errorf("decompressing %s: read after close", n.name)
	}
	defer func() {
		if v := recover(); v != nil {
			k, err = 0, fmt.Errorf("decompressing %s: corrupt input (decoder failed: %v)", n.name, v)
		}
	}()
	k, err = n.r.Read(p)
	if err == io.EOF && n.input != nil && n.input.n == 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("decompressing %s: %w", n.name, err)
	}
	return k, err
}

func (n *namedReader) Close() error {
	if n.closed {
		return nil
	}
	n.closed = true
	if n.closeFn == nil {
		return nil
	}
	if err := n.closeFn(); err != nil {
		return fmt.Errorf("closing %s reader: %w", n.name, err)
	}
	return nil
}

// wrapWriter names the algorithm in write and close errors.
func wrapWriter(w io.WriteCloser, name string) io.WriteCloser {
	return &namedWriter{w: w, name: name}
}

type namedWriter struct {
	w    io.WriteCloser
	name string
}

func (n *namedWriter) Write(p []byte) (int, error) {
	k, err := n.w.Write(p)
	if err != nil {
		err = fmt.Errorf("compressing %s: %w", n.name, err)
	}
	return k, err
}

func (n *namedWriter) Close() error {
	if err := n.w.Close(); err != nil {
		return fmt.Errorf("finishing %s stream: %w", n.name, err)
	}
	return nil
}

// memberWriter compresses its input in fixed-size pieces, each as a
// complete, independent stream ("member"), on up to conc goroutines, and
// writes the members in input order. Formats whose decoders read
// concatenated streams as one (bzip2, xz) get parallel compression this
// way with output every standard tool reads. Memory is bounded by about
// (conc+2) pieces of input plus their output.
type memberWriter struct {
	w    io.Writer
	name string
	size int
	mk   func(io.Writer) (io.WriteCloser, error)

	buf     []byte
	free    chan []byte
	queue   chan chan memberResult
	done    chan struct{}
	members int
	closed  bool

	mu  sync.Mutex
	err error // first failure, from a worker or the output writer
}

type memberResult struct {
	out *bytes.Buffer
	err error
}

func newMemberWriter(w io.Writer, name string, size, conc int, mk func(io.Writer) (io.WriteCloser, error)) *memberWriter {
	if conc < 1 {
		conc = 1
	}
	m := &memberWriter{
		w: w, name: name, size: size, mk: mk,
		free:  make(chan []byte, conc+2),
		queue: make(chan chan memberResult, conc),
		done:  make(chan struct{}),
	}
	go m.drain()
	return m
}

// drain writes finished members in order. After a failure it keeps
// receiving, so that workers and Write never block forever.
func (m *memberWriter) drain() {
	defer close(m.done)
	for rc := range m.queue {
		res := <-rc
		if m.failed() != nil {
			continue
		}
		if res.err != nil {
			m.fail(fmt.Errorf("compressing %s: %w", m.name, res.err))
			continue
		}
		if _, err := m.w.Write(res.out.Bytes()); err != nil {
			m.fail(fmt.Errorf("writing %s stream: %w", m.name, err))
		}
	}
}

func (m *memberWriter) fail(err error) {
	m.mu.Lock()
	if m.err == nil {
		m.err = err
	}
	m.mu.Unlock()
}

func (m *memberWriter) failed() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *memberWriter) Write(p []byte) (int, error) {
	if m.closed {
		return 0, fmt.Errorf("compressing %s: write after close", m.name)
	}
	n := 0
	for len(p) > 0 {
		if err := m.failed(); err != nil {
			return n, err
		}
		if m.buf == nil {
			select {
			case b := <-m.free:
				m.buf = b[:0]
			default:
				m.buf = make([]byte, 0, m.size)
			}
		}
		k := copy(m.buf[len(m.buf):m.size], p)
		m.buf = m.buf[:len(m.buf)+k]
		p = p[k:]
		n += k
		if len(m.buf) == m.size {
			m.submit()
		}
	}
	return n, nil
}

func (m *memberWriter) submit() {
	data := m.buf
	m.buf = nil
	m.members++
	rc := make(chan memberResult, 1)
	m.queue <- rc // blocks while conc members are in flight
	go func() {
		var out bytes.Buffer
		out.Grow(len(data)/2 + 1024)
		zw, err := m.mk(&out)
		if err == nil {
			_, err = zw.Write(data)
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		}
		select {
		case m.free <- data:
		default:
		}
		rc <- memberResult{out: &out, err: err}
	}()
}

// Close compresses what is buffered, waits for every member to be written
// and returns the first error. An empty input still yields one (empty)
// member, so the output is a valid stream.
func (m *memberWriter) Close() error {
	if m.closed {
		return m.failed()
	}
	m.closed = true
	if len(m.buf) > 0 || m.members == 0 {
		if m.buf == nil {
			m.buf = []byte{}
		}
		m.submit()
	}
	close(m.queue)
	<-m.done
	return m.failed()
}
