package codec

import (
	"errors"
	"fmt"
	"io"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/internal/readerr"
)

// ChainConfig names the codecs of one backup, as its metadata records
// them.
type ChainConfig struct {
	// Compression is a compressor name ("none" for none); required.
	Compression string
	// Encryption is an encryption format name, or "" for no encryption.
	Encryption string
	// Passphrase is the key material when Encryption is set.
	Passphrase []byte
	Compress   CompressOptions
	Encrypt    EncryptOptions
}

// Chain is the codec stack between an engine and a storage: compression,
// then (optionally) encryption. It is itself a backup.Codec.
type Chain struct {
	Compression backup.Codec
	Encryption  backup.Codec // nil: not encrypted
}

// NewChain builds the chain cfg names.
func NewChain(cfg ChainConfig) (*Chain, error) {
	comp, err := NewCompressor(cfg.Compression, cfg.Compress)
	if err != nil {
		return nil, err
	}
	c := &Chain{Compression: comp}
	if cfg.Encryption == "" {
		if len(cfg.Passphrase) > 0 {
			return nil, errors.New("building codec chain: a passphrase was given but no encryption format")
		}
		return c, nil
	}
	enc, err := NewEncryption(cfg.Encryption, cfg.Passphrase, cfg.Compression, cfg.Encrypt)
	if err != nil {
		return nil, err
	}
	c.Encryption = enc
	return c, nil
}

// Name is "compression" or "compression+encryption", for logs.
func (c *Chain) Name() string {
	if c.Encryption == nil {
		return c.Compression.Name()
	}
	return c.Compression.Name() + "+" + c.Encryption.Name()
}

// Encode returns a writer that compresses, then encrypts, into w. Close
// finishes the compressor, then the encryption; it does not close w. If
// the compressor fails to finish, the encryption is left unfinished too,
// so that the stored stream can never pass for a complete one.
func (c *Chain) Encode(w io.Writer) (io.WriteCloser, error) {
	if c.Encryption == nil {
		return c.Compression.Encode(w)
	}
	ew, err := c.Encryption.Encode(w)
	if err != nil {
		return nil, err
	}
	cw, err := c.Compression.Encode(ew)
	if err != nil {
		return nil, err
	}
	return &chainWriter{outer: cw, inner: ew}, nil
}

type chainWriter struct {
	outer, inner io.WriteCloser
	closed       bool
}

func (cw *chainWriter) Write(p []byte) (int, error) { return cw.outer.Write(p) }

func (cw *chainWriter) Close() error {
	if cw.closed {
		return errors.New("codec chain: closed twice")
	}
	cw.closed = true
	if err := cw.outer.Close(); err != nil {
		return err
	}
	return cw.inner.Close()
}

// Decode returns a reader that decrypts, then decompresses, r. When the
// decryption fails, that error (wrapping ErrAuth for a wrong passphrase or
// tampered data) is what Read returns, not the decompressor's reaction to
// it. Close closes both; it does not close r.
func (c *Chain) Decode(r io.Reader) (io.ReadCloser, error) {
	if c.Encryption == nil {
		return c.Compression.Decode(r)
	}
	dr, err := c.Encryption.Decode(r)
	if err != nil {
		return nil, err
	}
	// Decompressors do not all wrap their input's errors with %w.
	rec := readerr.New(dr)
	cr, err := c.Compression.Decode(rec)
	if err != nil {
		dr.Close()
		if inner := rec.Err(); inner != nil {
			return nil, inner
		}
		return nil, err
	}
	return &chainReader{outer: cr, inner: dr, rec: rec}, nil
}

type chainReader struct {
	outer, inner io.ReadCloser
	rec          *readerr.Reader
}

func (cr *chainReader) Read(p []byte) (int, error) {
	n, err := cr.outer.Read(p)
	if err != nil && err != io.EOF {
		if inner := cr.rec.Err(); inner != nil && !errors.Is(err, inner) {
			return n, inner
		}
	}
	return n, err
}

func (cr *chainReader) Close() error {
	err1 := cr.outer.Close()
	err2 := cr.inner.Close()
	if err1 != nil {
		return err1
	}
	if err2 != nil {
		return fmt.Errorf("closing decryption: %w", err2)
	}
	return nil
}
