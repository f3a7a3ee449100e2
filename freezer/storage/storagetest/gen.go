package storagetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// Generator returns a reader of n deterministic pseudo-random bytes derived
// from seed. Data of any size can be produced and hashed again without
// being stored.
func Generator(seed uint64, n int64) io.Reader {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// HashOf returns the hex SHA-256 of everything r yields, and its length.
func HashOf(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), n, nil
}

// ErrInjected is what FailingReader returns.
var ErrInjected = errors.New("storagetest: injected reader failure")

// FailingReader yields the first n bytes of r and then fails with
// ErrInjected, like an engine that dies mid-backup.
func FailingReader(r io.Reader, n int64) io.Reader {
	return &failingReader{r: io.LimitReader(r, n)}
}

type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		if n > 0 {
			return n, nil
		}
		return 0, ErrInjected
	}
	return n, err
}

// callbackReader calls fn once, when at least after bytes have been read.
type callbackReader struct {
	r     io.Reader
	after int64
	read  int64
	fn    func()
}

func (c *callbackReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.fn != nil && c.read >= c.after {
		c.fn()
		c.fn = nil
	}
	return n, err
}
