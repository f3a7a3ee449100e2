package codec

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"

	"freezer.dev/freezer/freezer/backup"
)

// ErrAuth is wrapped by every decryption error that means the passphrase
// is wrong or the data was changed: a failed key check or tag, a truncated
// stream, a header that is not ours. Callers branch on it to tell the user
// to check the passphrase file or the backup's integrity.
var ErrAuth = errors.New("wrong passphrase or corrupted data")

const (
	opensslMagic   = "Salted__"
	opensslSaltLen = 8
	opensslHdrLen  = len(opensslMagic) + opensslSaltLen
	// ioBufSize is the unit the streaming encryptors and decryptors work in.
	ioBufSize = 64 << 10
)

// opensslDigests are tried in this order on read: SHA-256 is what
// OpenSSL >= 1.1.0 uses (and what we write), MD5 what older ones used.
func opensslDigests() []func() hash.Hash { return []func() hash.Hash{sha256.New, md5.New} }

// opensslCodec is upstream's encryption: the output of
//
//	openssl enc -aes-256-cfb -pass file:PASSFILE
//
// i.e. "Salted__", an 8-byte random salt, then AES-256-CFB128 of the whole
// stream with no padding, key and IV from EVP_BytesToKey(SHA-256, 1
// iteration). It is unauthenticated: it cannot detect tampering, and a
// wrong passphrase is only recognised because the plaintext then does not
// start like the compression recorded in the backup's metadata.
type opensslCodec struct {
	pass        []byte
	compression string
	rand        io.Reader
}

// NewOpenSSL returns the OpenSSL-format codec. compression is the
// compression applied under the encryption (as recorded in the backup's
// metadata); on decode it tells the SHA-256 key from the legacy MD5 one
// and a right passphrase from a wrong one. rnd supplies salts; nil means
// crypto/rand.
func NewOpenSSL(pass []byte, compression string, rnd io.Reader) (backup.Codec, error) {
	if _, ok := compressors()[compression]; !ok && compression != MsgpackList {
		return nil, fmt.Errorf("openssl encryption: unknown compression %q underneath", compression)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	return &opensslCodec{pass: bytes.Clone(pass), compression: compression, rand: rnd}, nil
}

func (*opensslCodec) Name() string { return OpenSSL }

func (c *opensslCodec) keyIV(h func() hash.Hash, salt []byte) (*cfbKey, error) {
	key, iv, err := EVPBytesToKey(h, c.pass, salt, 1, 32, aes.BlockSize)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &cfbKey{block: b, iv: iv}, nil
}

func (c *opensslCodec) Encode(w io.Writer) (io.WriteCloser, error) {
	hdr := make([]byte, opensslHdrLen)
	copy(hdr, opensslMagic)
	if _, err := io.ReadFull(c.rand, hdr[len(opensslMagic):]); err != nil {
		return nil, fmt.Errorf("openssl encryption: generating salt: %w", err)
	}
	k, err := c.keyIV(sha256.New, hdr[len(opensslMagic):])
	if err != nil {
		return nil, fmt.Errorf("openssl encryption: deriving key: %w", err)
	}
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("openssl encryption: writing header: %w", err)
	}
	return &streamWriter{s: newCFB128(k.block, k.iv, false), w: w, name: "openssl encryption"}, nil
}

func (c *opensslCodec) Decode(r io.Reader) (io.ReadCloser, error) {
	hdr := make([]byte, opensslHdrLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("openssl decryption: stream shorter than its header: %w", ErrAuth)
		}
		return nil, fmt.Errorf("openssl decryption: reading header: %w", err)
	}
	if string(hdr[:len(opensslMagic)]) != opensslMagic {
		return nil, fmt.Errorf("openssl decryption: no %q header, not an OpenSSL-encrypted stream: %w", opensslMagic, ErrAuth)
	}
	salt := hdr[len(opensslMagic):]
	probe := make([]byte, probeLen)
	n, err := io.ReadFull(r, probe)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("openssl decryption: reading: %w", err)
	}
	probe = probe[:n]
	plain := make([]byte, n)
	for _, h := range opensslDigests() {
		k, err := c.keyIV(h, salt)
		if err != nil {
			return nil, fmt.Errorf("openssl decryption: deriving key: %w", err)
		}
		s := newCFB128(k.block, k.iv, true)
		s.XORKeyStream(plain, probe)
		// An empty payload carries no evidence either way; the
		// decompressor after us reports it as truncated.
		if n == 0 || plausibleStart(c.compression, plain) {
			return &streamReader{
				prefix: plain,
				s:      s,
				r:      r,
				name:   "openssl decryption",
			}, nil
		}
	}
	return nil, fmt.Errorf("openssl decryption: the decrypted stream does not start like %s with either the SHA-256 or the MD5 key: %w",
		magicName(c.compression), ErrAuth)
}

type cfbKey struct {
	block cipher.Block
	iv    []byte
}

// keyStream is cipher.Stream, named here to keep the helpers below
// independent of the mode.
type keyStream interface{ XORKeyStream(dst, src []byte) }

// streamWriter encrypts with a stream cipher through a reused buffer.
// Close flushes nothing (a stream cipher holds no data back) and does not
// close w.
type streamWriter struct {
	s      keyStream
	w      io.Writer
	buf    []byte
	name   string
	err    error
	closed bool
}

func (sw *streamWriter) Write(p []byte) (int, error) {
	if sw.closed {
		return 0, fmt.Errorf("%s: write after close", sw.name)
	}
	if sw.err != nil {
		return 0, sw.err
	}
	if sw.buf == nil {
		sw.buf = make([]byte, ioBufSize)
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), len(sw.buf))
		sw.s.XORKeyStream(sw.buf[:k], p[:k])
		if _, err := sw.w.Write(sw.buf[:k]); err != nil {
			// The cipher state has advanced past bytes the writer may not
			// have taken; the stream cannot be resumed.
			sw.err = fmt.Errorf("%s: writing: %w", sw.name, err)
			return n, sw.err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

func (sw *streamWriter) Close() error {
	sw.closed = true
	return sw.err
}

// streamReader decrypts with a stream cipher; prefix is plaintext already
// decrypted (the probe).
type streamReader struct {
	prefix []byte
	s      keyStream
	r      io.Reader
	name   string
	closed bool
}

func (sr *streamReader) Read(p []byte) (int, error) {
	if sr.closed {
		return 0, fmt.Errorf("%s: read after close", sr.name)
	}
	if len(sr.prefix) > 0 {
		n := copy(p, sr.prefix)
		sr.prefix = sr.prefix[n:]
		return n, nil
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Decrypting in place in p is safe: the stream cipher maps each byte
	// independently of where it lands.
	n, err := sr.r.Read(p)
	sr.s.XORKeyStream(p[:n], p[:n])
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: reading: %w", sr.name, err)
	}
	return n, err
}

func (sr *streamReader) Close() error {
	sr.closed = true
	return nil
}
