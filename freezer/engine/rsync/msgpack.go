package rsync

// A minimal MessagePack encoder and a streaming token decoder, limited to
// the types upstream's rsyncv2 format uses: nil, bool, integers, floats,
// str, bin, array and map.
//
// Hand-written rather than a library because the engine needs token-level
// streaming that general-purpose libraries do not make easy: the
// engine_metadata of a large tree is ~100 MB and must be walked in step
// with the tree (one entry at a time), and one file's signature holds all
// weak sums before all strong ones, so the reader keeps two cursors into
// the same map value. The decoder also enforces limits on every length
// before allocating, which the hostile-input contract needs.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Limits on what the decoder accepts; a header or state beyond them is
// corrupt or hostile, not large.
const (
	maxStringLen = 64 << 10 // paths (PATH_MAX is 4096), names, hex digests
	maxSkipDepth = 32       // nesting of values we skip without a schema
)

// errMsgpack is wrapped by every decoding error.
var errMsgpack = errors.New("malformed msgpack")

func msgpackErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMsgpack, fmt.Sprintf(format, args...))
}

// mpWriter encodes values to a buffered writer; the first error sticks and
// is returned by flush.
type mpWriter struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [9]byte
}

func newMPWriter(w io.Writer) *mpWriter {
	return &mpWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

func (m *mpWriter) write(p []byte) {
	if m.err != nil {
		return
	}
	n, err := m.w.Write(p)
	m.n += int64(n)
	m.err = err
}

func (m *mpWriter) flush() error {
	if m.err != nil {
		return m.err
	}
	m.err = m.w.Flush()
	return m.err
}

func (m *mpWriter) bool(v bool) {
	if v {
		m.write([]byte{0xc3})
	} else {
		m.write([]byte{0xc2})
	}
}

// int writes v in the shortest form, as msgpack-python does.
func (m *mpWriter) int(v int64) {
	b := m.buf[:]
	switch {
	case v >= 0 && v < 128:
		b[0] = byte(v)
		m.write(b[:1])
	case v >= 0:
		m.uint(uint64(v))
	case v >= -32:
		b[0] = byte(v)
		m.write(b[:1])
	case v >= math.MinInt8:
		b[0], b[1] = 0xd0, byte(v)
		m.write(b[:2])
	case v >= math.MinInt16:
		b[0] = 0xd1
		binary.BigEndian.PutUint16(b[1:], uint16(v))
		m.write(b[:3])
	case v >= math.MinInt32:
		b[0] = 0xd2
		binary.BigEndian.PutUint32(b[1:], uint32(v))
		m.write(b[:5])
	default:
		b[0] = 0xd3
		binary.BigEndian.PutUint64(b[1:], uint64(v))
		m.write(b[:9])
	}
}

func (m *mpWriter) uint(v uint64) {
	b := m.buf[:]
	switch {
	case v < 128:
		b[0] = byte(v)
		m.write(b[:1])
	case v <= math.MaxUint8:
		b[0], b[1] = 0xcc, byte(v)
		m.write(b[:2])
	case v <= math.MaxUint16:
		b[0] = 0xcd
		binary.BigEndian.PutUint16(b[1:], uint16(v))
		m.write(b[:3])
	case v <= math.MaxUint32:
		m.uint32(uint32(v))
	default:
		b[0] = 0xcf
		binary.BigEndian.PutUint64(b[1:], v)
		m.write(b[:9])
	}
}

// uint32 always takes five bytes.
func (m *mpWriter) uint32(v uint32) {
	m.buf[0] = 0xce
	binary.BigEndian.PutUint32(m.buf[1:], v)
	m.write(m.buf[:5])
}

func (m *mpWriter) float(v float64) {
	m.buf[0] = 0xcb
	binary.BigEndian.PutUint64(m.buf[1:], math.Float64bits(v))
	m.write(m.buf[:9])
}

func (m *mpWriter) str(s string) {
	m.lenHeader(len(s), 0xa0, 31, 0xd9, 0xda, 0xdb)
	if m.err == nil {
		n, err := m.w.WriteString(s)
		m.n += int64(n)
		m.err = err
	}
}

func (m *mpWriter) arrayHeader(n int) { m.lenHeader(n, 0x90, 15, 0, 0xdc, 0xdd) }
func (m *mpWriter) mapHeader(n int)   { m.lenHeader(n, 0x80, 15, 0, 0xde, 0xdf) }

// array32Header always takes five bytes, so a count can be written before
// it is known and the header sized in advance.
func (m *mpWriter) array32Header(n uint32) {
	m.buf[0] = 0xdd
	binary.BigEndian.PutUint32(m.buf[1:], n)
	m.write(m.buf[:5])
}

func (m *mpWriter) lenHeader(n int, fix byte, fixMax int, c8, c16, c32 byte) {
	b := m.buf[:]
	switch {
	case n <= fixMax:
		b[0] = fix | byte(n)
		m.write(b[:1])
	case c8 != 0 && n <= math.MaxUint8:
		b[0], b[1] = c8, byte(n)
		m.write(b[:2])
	case n <= math.MaxUint16:
		b[0] = c16
		binary.BigEndian.PutUint16(b[1:], uint16(n))
		m.write(b[:3])
	default:
		b[0] = c32
		binary.BigEndian.PutUint32(b[1:], uint32(n))
		m.write(b[:5])
	}
}

// mpReader decodes values one token at a time from a buffered reader and
// counts the bytes consumed, so a caller can note where a value starts.
type mpReader struct {
	r   *bufio.Reader
	off int64 // bytes consumed so far (plus the start offset)
}

func newMPReader(r io.Reader, off int64) *mpReader {
	return newMPReaderSize(r, off, 64<<10)
}

// newMPReaderSize buffers size bytes: small for the many short values of a
// state (one file's signature), where a large buffer would read and copy
// far more than the value.
func newMPReaderSize(r io.Reader, off int64, size int) *mpReader {
	return &mpReader{r: bufio.NewReaderSize(r, min(max(size, 16), 64<<10)), off: off}
}

func (m *mpReader) byte() (byte, error) {
	c, err := m.r.ReadByte()
	if err != nil {
		return 0, noEOF(err)
	}
	m.off++
	return c, nil
}

func (m *mpReader) full(p []byte) error {
	n, err := io.ReadFull(m.r, p)
	m.off += int64(n)
	return noEOF(err)
}

// noEOF turns an end of input inside a value into ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (m *mpReader) be(n int) (uint64, error) {
	var b [8]byte
	if err := m.full(b[:n]); err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b[:n] {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// peek returns the next type byte without consuming it.
func (m *mpReader) peek() (byte, error) {
	b, err := m.r.Peek(1)
	if err != nil {
		return 0, noEOF(err)
	}
	return b[0], nil
}

func (m *mpReader) readInt() (int64, error) {
	c, err := m.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c < 0x80:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	}
	var v uint64
	switch c {
	case 0xcc, 0xd0:
		v, err = m.be(1)
	case 0xcd, 0xd1:
		v, err = m.be(2)
	case 0xce, 0xd2:
		v, err = m.be(4)
	case 0xcf, 0xd3:
		v, err = m.be(8)
	default:
		return 0, msgpackErrorf("want an integer, got type 0x%02x", c)
	}
	if err != nil {
		return 0, err
	}
	switch c {
	case 0xd0:
		return int64(int8(v)), nil
	case 0xd1:
		return int64(int16(v)), nil
	case 0xd2:
		return int64(int32(v)), nil
	case 0xd3:
		return int64(v), nil
	case 0xcf:
		if v > math.MaxInt64 {
			return 0, msgpackErrorf("integer %d out of range", v)
		}
	}
	return int64(v), nil
}

// readFloat accepts a float or an integer (Python writes whole-second
// times either way depending on the platform).
func (m *mpReader) readFloat() (float64, error) {
	c, err := m.peek()
	if err != nil {
		return 0, err
	}
	switch c {
	case 0xca:
		m.byte()
		v, err := m.be(4)
		return float64(math.Float32frombits(uint32(v))), err
	case 0xcb:
		m.byte()
		v, err := m.be(8)
		return math.Float64frombits(v), err
	}
	v, err := m.readInt()
	return float64(v), err
}

func (m *mpReader) readBool() (bool, error) {
	c, err := m.byte()
	if err != nil {
		return false, err
	}
	switch c {
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc0:
		return false, nil
	}
	return false, msgpackErrorf("want a bool, got type 0x%02x", c)
}

// readString reads a str or bin value of at most maxStringLen bytes.
func (m *mpReader) readString() (string, error) {
	c, err := m.byte()
	if err != nil {
		return "", err
	}
	var n uint64
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n = uint64(c & 0x1f)
	case c == 0xd9 || c == 0xc4:
		n, err = m.be(1)
	case c == 0xda || c == 0xc5:
		n, err = m.be(2)
	case c == 0xdb || c == 0xc6:
		n, err = m.be(4)
	default:
		return "", msgpackErrorf("want a string, got type 0x%02x", c)
	}
	if err != nil {
		return "", err
	}
	if n > maxStringLen {
		return "", msgpackErrorf("string of %d bytes is longer than %d", n, maxStringLen)
	}
	b := make([]byte, n)
	if err := m.full(b); err != nil {
		return "", err
	}
	return string(b), nil
}

func (m *mpReader) readArrayHeader() (int64, error) {
	return m.readContainer(0x90, 0xdc, 0xdd, "an array")
}

func (m *mpReader) readMapHeader() (int64, error) {
	return m.readContainer(0x80, 0xde, 0xdf, "a map")
}

func (m *mpReader) readContainer(fix, c16, c32 byte, what string) (int64, error) {
	c, err := m.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c&0xf0 == fix:
		return int64(c & 0x0f), nil
	case c == c16:
		v, err := m.be(2)
		return int64(v), err
	case c == c32:
		v, err := m.be(4)
		return int64(v), err
	}
	return 0, msgpackErrorf("want %s, got type 0x%02x", what, c)
}

// skip consumes one value of any type without keeping it.
func (m *mpReader) skip() error { return m.skipDepth(0) }

func (m *mpReader) skipDepth(depth int) error {
	if depth > maxSkipDepth {
		return msgpackErrorf("values nested deeper than %d", maxSkipDepth)
	}
	c, err := m.byte()
	if err != nil {
		return err
	}
	var n uint64 // bytes to discard
	var items uint64
	switch {
	case c < 0x80 || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		return nil
	case c >= 0xa0 && c <= 0xbf:
		n = uint64(c & 0x1f)
	case c&0xf0 == 0x90:
		items = uint64(c & 0x0f)
	case c&0xf0 == 0x80:
		items = 2 * uint64(c&0x0f)
	}
	switch c {
	case 0xcc, 0xd0:
		n = 1
	case 0xcd, 0xd1:
		n = 2
	case 0xce, 0xd2, 0xca:
		n = 4
	case 0xcf, 0xd3, 0xcb:
		n = 8
	case 0xd9, 0xc4:
		n, err = m.be(1)
	case 0xda, 0xc5:
		n, err = m.be(2)
	case 0xdb, 0xc6:
		n, err = m.be(4)
	case 0xdc:
		items, err = m.be(2)
	case 0xdd:
		items, err = m.be(4)
	case 0xde:
		items, err = m.be(2)
		items *= 2
	case 0xdf:
		items, err = m.be(4)
		items *= 2
	case 0xc1, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return msgpackErrorf("unsupported type 0x%02x", c)
	}
	if err != nil {
		return err
	}
	if n > 0 {
		d, err := m.r.Discard(int(n))
		m.off += int64(d)
		if err != nil {
			return noEOF(err)
		}
	}
	for ; items > 0; items-- {
		if err := m.skipDepth(depth + 1); err != nil {
			return err
		}
	}
	return nil
}
