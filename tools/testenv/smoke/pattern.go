package smoke

import (
	"errors"
	"fmt"
	"io"
)

// Pattern is a deterministic, seekable stream of Size pseudo-random bytes:
// the byte at offset o depends only on Seed and o. Uploads can therefore be
// generated and verified in constant memory, and clients that need an
// io.ReadSeeker (to hash a body before sending it) get one without a
// buffer.
type Pattern struct {
	Seed uint64
	Size int64
	off  int64
}

// NewPattern returns a Pattern positioned at offset 0.
func NewPattern(seed uint64, size int64) *Pattern {
	return &Pattern{Seed: seed, Size: size}
}

// word is splitmix64 of the word index mixed with the seed: cheap, and no
// two 8-byte words of a stream share a cycle.
func (p *Pattern) word(i uint64) uint64 {
	z := p.Seed + (i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Read implements io.Reader.
func (p *Pattern) Read(b []byte) (int, error) {
	if p.off >= p.Size {
		return 0, io.EOF
	}
	if rest := p.Size - p.off; int64(len(b)) > rest {
		b = b[:rest]
	}
	n := 0
	for n < len(b) {
		w := p.word(uint64(p.off+int64(n)) / 8)
		shift := uint((p.off + int64(n)) % 8 * 8)
		for ; shift < 64 && n < len(b); shift += 8 {
			b[n] = byte(w >> shift)
			n++
		}
	}
	p.off += int64(n)
	return n, nil
}

// Seek implements io.Seeker.
func (p *Pattern) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = p.off + offset
	case io.SeekEnd:
		abs = p.Size + offset
	default:
		return 0, fmt.Errorf("seeking pattern: invalid whence %d", whence)
	}
	if abs < 0 {
		return 0, errors.New("seeking pattern: negative position")
	}
	p.off = abs
	return abs, nil
}
