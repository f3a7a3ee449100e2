package tar

import (
	"errors"
	"io"
	"strconv"
)

const (
	blockSize  = 512
	recordSize = 20 * blockSize // GNU tar's default blocking factor

	typeReg      = '0'
	typeLink     = '1'
	typeSymlink  = '2'
	typeDir      = '5'
	typeDumpDir  = 'D'
	typeLongName = 'L'
	typeLongLink = 'K'

	longLinkName = "././@LongLink"
)

// Offsets of the fields of a GNU tar header block.
const (
	offName     = 0
	offMode     = 100
	offUID      = 108
	offGID      = 116
	offSize     = 124
	offMtime    = 136
	offChksum   = 148
	offTypeflag = 156
	offLinkname = 157
	offMagic    = 257
	offUname    = 265
	offGname    = 297
	offAtime    = 345
	offCtime    = 357

	nameLen  = 100
	unameLen = 32
)

// header is what the writer needs to describe one member.
type header struct {
	name     string
	linkname string
	typeflag byte
	mode     int64 // permission bits and setuid/setgid/sticky, as tar stores them
	uid, gid int64
	uname    string
	gname    string
	size     int64
	mtime    int64 // seconds
	atime    int64
	ctime    int64
}

// blockWriter batches headers and file data into one large buffer so that
// the stream below sees few, large writes, and reads file contents straight
// into that buffer (one copy from the page cache to the stream).
type blockWriter struct {
	w       io.Writer
	buf     []byte
	n       int
	written int64 // bytes handed to w
}

func newBlockWriter(w io.Writer, size int) *blockWriter {
	return &blockWriter{w: w, buf: make([]byte, size)}
}

func (b *blockWriter) flush() error {
	if b.n == 0 {
		return nil
	}
	n, err := b.w.Write(b.buf[:b.n])
	b.written += int64(n)
	if err == nil && n != b.n {
		err = io.ErrShortWrite
	}
	b.n = 0
	if err != nil {
		return &writeError{err}
	}
	return nil
}

// writeError is a failure of the stream below the archive, as opposed to
// a failure reading a file being archived.
type writeError struct{ err error }

func (e *writeError) Error() string { return "writing archive: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// block returns the next zeroed 512-byte block of the buffer.
func (b *blockWriter) block() ([]byte, error) {
	if len(b.buf)-b.n < blockSize {
		if err := b.flush(); err != nil {
			return nil, err
		}
	}
	blk := b.buf[b.n : b.n+blockSize]
	clear(blk)
	b.n += blockSize
	return blk, nil
}

// writeData writes p followed by zero padding to a block boundary.
func (b *blockWriter) writeData(p []byte) error {
	for len(p) > 0 {
		if b.n == len(b.buf) {
			if err := b.flush(); err != nil {
				return err
			}
		}
		c := copy(b.buf[b.n:], p)
		b.n += c
		p = p[c:]
	}
	return b.pad()
}

// pad zero-fills up to the next block boundary; the buffer size is a
// multiple of the block size, so padding never straddles a flush.
func (b *blockWriter) pad() error {
	if r := b.n % blockSize; r != 0 {
		clear(b.buf[b.n : b.n+blockSize-r])
		b.n += blockSize - r
	}
	return nil
}

// errShrank reports a file that ended before the size in its header.
var errShrank = errors.New("file shrank")

// readFrom copies exactly size bytes of r into the archive, reading
// directly into the buffer. If r ends early the rest is zero-filled (the
// header is already written) and errShrank is returned after padding; any
// other read error is returned the same way, wrapped.
func (b *blockWriter) readFrom(r io.Reader, size int64, progress func(int64)) error {
	remaining := size
	var rerr error
	for remaining > 0 {
		if b.n == len(b.buf) {
			if err := b.flush(); err != nil {
				return err
			}
		}
		space := b.buf[b.n:]
		if int64(len(space)) > remaining {
			space = space[:remaining]
		}
		if rerr == nil {
			n, err := r.Read(space)
			b.n += n
			remaining -= int64(n)
			if progress != nil && n > 0 {
				progress(int64(n))
			}
			if err == io.EOF {
				if remaining > 0 {
					rerr = errShrank
				}
			} else if err != nil {
				rerr = err
			}
			continue
		}
		clear(space)
		b.n += len(space)
		remaining -= int64(len(space))
	}
	if err := b.pad(); err != nil {
		return err
	}
	return rerr
}

// finish writes the end-of-archive marker and pads the stream to a whole
// record, as GNU tar does, then flushes.
func (b *blockWriter) finish() error {
	for range 2 {
		if _, err := b.block(); err != nil {
			return err
		}
	}
	total := b.written + int64(b.n)
	for total%recordSize != 0 {
		if _, err := b.block(); err != nil {
			return err
		}
		total += blockSize
	}
	return b.flush()
}

// writeHeader encodes h as GNU tar does, preceded by './@LongLink' members
// when the name or link target does not fit its field.
func (b *blockWriter) writeHeader(h *header) error {
	if len(h.name) > nameLen {
		if err := b.writeLong(typeLongName, h.name); err != nil {
			return err
		}
	}
	if len(h.linkname) > nameLen {
		if err := b.writeLong(typeLongLink, h.linkname); err != nil {
			return err
		}
	}
	blk, err := b.block()
	if err != nil {
		return err
	}
	copy(blk[offName:offName+nameLen], h.name)
	putNumeric(blk[offMode:offMode+8], h.mode)
	putNumeric(blk[offUID:offUID+8], h.uid)
	putNumeric(blk[offGID:offGID+8], h.gid)
	putNumeric(blk[offSize:offSize+12], h.size)
	putNumeric(blk[offMtime:offMtime+12], h.mtime)
	blk[offTypeflag] = h.typeflag
	copy(blk[offLinkname:offLinkname+nameLen], h.linkname)
	copy(blk[offMagic:], "ustar  \x00")
	copy(blk[offUname:offUname+unameLen-1], h.uname)
	copy(blk[offGname:offGname+unameLen-1], h.gname)
	putNumeric(blk[offAtime:offAtime+12], h.atime)
	putNumeric(blk[offCtime:offCtime+12], h.ctime)
	putChecksum(blk)
	return nil
}

// writeLong writes a GNU long-name ('L') or long-link ('K') member.
func (b *blockWriter) writeLong(flag byte, s string) error {
	blk, err := b.block()
	if err != nil {
		return err
	}
	copy(blk[offName:], longLinkName)
	putNumeric(blk[offMode:offMode+8], 0)
	putNumeric(blk[offUID:offUID+8], 0)
	putNumeric(blk[offGID:offGID+8], 0)
	putNumeric(blk[offSize:offSize+12], int64(len(s)+1))
	putNumeric(blk[offMtime:offMtime+12], 0)
	blk[offTypeflag] = flag
	copy(blk[offMagic:], "ustar  \x00")
	copy(blk[offUname:], "root")
	copy(blk[offGname:], "root")
	putChecksum(blk)
	// The name plus its terminating NUL; the buffer is zeroed by pad.
	for len(s) > 0 {
		if b.n == len(b.buf) {
			if err := b.flush(); err != nil {
				return err
			}
		}
		c := copy(b.buf[b.n:], s)
		b.n += c
		s = s[c:]
	}
	if b.n == len(b.buf) {
		if err := b.flush(); err != nil {
			return err
		}
	}
	b.buf[b.n] = 0
	b.n++
	return b.pad()
}

// putNumeric stores v as zero-padded octal with a NUL terminator, or in
// GNU base-256 when it does not fit (large sizes, ids, negative times).
func putNumeric(f []byte, v int64) {
	digits := len(f) - 1
	if v >= 0 && (digits >= 22 || v < int64(1)<<(3*digits)) {
		var tmp [24]byte
		s := strconv.AppendInt(tmp[:0], v, 8)
		i := 0
		for ; i < digits-len(s); i++ {
			f[i] = '0'
		}
		copy(f[i:], s)
		f[digits] = 0
		return
	}
	// Base-256: two's complement big-endian, high bit of the first byte set.
	x := v // arithmetic shifts keep the sign bytes of negative values
	for i := len(f) - 1; i >= 1; i-- {
		f[i] = byte(x)
		x >>= 8
	}
	if v < 0 {
		f[0] = 0xff
	} else {
		f[0] = 0x80
	}
}

func putChecksum(blk []byte) {
	copy(blk[offChksum:offChksum+8], "        ")
	var sum int64
	for _, c := range blk {
		sum += int64(c)
	}
	// Six octal digits, NUL, space: GNU tar's layout.
	s := strconv.FormatInt(sum, 8)
	f := blk[offChksum : offChksum+8]
	for i := range 6 {
		f[i] = '0'
	}
	copy(f[6-len(s):6], s)
	f[6] = 0
	f[7] = ' '
}
