package codec

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"

	"freezer.dev/freezer/freezer/backup"
)

// The fzae1 format ("freezer authenticated encryption, version 1") is our
// encryption for new backups. It is an on-storage format: it is never
// changed, and a different layout gets a different name.
//
// A stream is a header followed by one or more chunks:
//
//	offset size  header field
//	     0    5  magic "FZAE1"
//	     5    1  version, 1
//	     6    1  KDF id: 1 = Argon2id (RFC 9106, version 0x13)
//	     7    1  Argon2 parallelism p, 1..16
//	     8    4  Argon2 passes t, big-endian, 1..16
//	    12    4  Argon2 memory m in KiB, big-endian, 8*p..262144 (256 MiB)
//	    16    1  log2 of the chunk size, 12..24 (writers use 20: 1 MiB)
//	    17   16  salt, random per stream
//	    33    7  nonce prefix, random per stream
//	    40   16  key check: HMAC-SHA256(Kc, header[0:40]), first 16 bytes
//	    56       (header length)
//
// Argon2id(passphrase, salt, t, m, p) gives 64 bytes, Ke || Kc. Chunk i
// (counting from 0) is AES-256-GCM(Ke) sealing the i-th piece of the
// plaintext with
//
//	nonce = nonce prefix (7) || i as big-endian uint32 (4) || last (1)
//	aad   = header[0:56]
//
// where last is 1 for the final chunk and 0 otherwise. Every chunk but the
// last holds exactly chunk-size plaintext bytes (so chunk-size+16 bytes
// stored); the last holds 0 to chunk-size bytes. An empty plaintext is a
// single last chunk of 16 bytes. A reader knows a chunk is the last
// because the stream ends after it.
//
// What this buys: a wrong passphrase fails the key check before any
// chunk is read; a changed header fails the key check or every tag; a
// changed, reordered or removed chunk fails its tag (its counter is in the
// nonce); a stream cut at a chunk boundary fails because the chunk read
// as last was sealed with last=0; data appended after the last chunk
// makes that chunk be read as non-last, which fails. The header's bounds
// cap what a hostile header can demand: 256 MiB and 16 passes of Argon2,
// 16 MiB of chunk buffer.
const (
	fzae1Magic       = "FZAE1"
	fzae1Version     = 1
	fzae1KDFArgon2id = 1
	fzae1HeaderLen   = 56
	fzae1CheckOff    = 40
	fzae1SaltLen     = 16
	fzae1PrefixLen   = 7
	fzae1TagLen      = 16

	fzae1MaxThreads     = 16
	fzae1MaxTime        = 16
	fzae1MaxMemoryKiB   = 256 << 10
	fzae1MinChunkLog    = 12
	fzae1MaxChunkLog    = 24
	fzae1DefaultChunkLg = 20
	fzae1MaxChunks      = 1 << 32
)

// KDFParams are fzae1's Argon2id cost parameters.
type KDFParams struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
}

// DefaultKDFParams is the cost new backups use: Argon2id with 32 MiB, 3
// passes, 2 lanes; about a tenth of a second per stream on a small
// server, and well inside the agent's memory budget.
func DefaultKDFParams() KDFParams {
	return KDFParams{Time: 3, MemoryKiB: 32 << 10, Threads: 2}
}

func (k KDFParams) validate() error {
	switch {
	case k.Threads < 1 || k.Threads > fzae1MaxThreads:
		return fmt.Errorf("argon2 parallelism %d outside 1..%d", k.Threads, fzae1MaxThreads)
	case k.Time < 1 || k.Time > fzae1MaxTime:
		return fmt.Errorf("argon2 passes %d outside 1..%d", k.Time, fzae1MaxTime)
	case k.MemoryKiB < 8*uint32(k.Threads) || k.MemoryKiB > fzae1MaxMemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB outside %d..%d", k.MemoryKiB, 8*uint32(k.Threads), fzae1MaxMemoryKiB)
	}
	return nil
}

// FZAE1Options tune the fzae1 writer. The zero value gives the defaults.
type FZAE1Options struct {
	// KDF is the Argon2id cost; zero means DefaultKDFParams.
	KDF KDFParams
	// ChunkSizeLog2 is log2 of the chunk size, 12..24; 0 means 20 (1 MiB).
	ChunkSizeLog2 int
	// Rand supplies salts and nonce prefixes; nil means crypto/rand.
	Rand io.Reader
}

type fzae1Codec struct {
	pass     []byte
	kdf      KDFParams
	chunkLog int
	rand     io.Reader
}

// NewFZAE1 returns the fzae1 codec for a passphrase, which must not be
// empty. The options matter only for encoding; decoding takes the
// parameters from the stream's header.
func NewFZAE1(pass []byte, o FZAE1Options) (backup.Codec, error) {
	if len(pass) == 0 {
		return nil, errors.New("fzae1 encryption: the passphrase is empty")
	}
	if o.KDF == (KDFParams{}) {
		o.KDF = DefaultKDFParams()
	}
	if err := o.KDF.validate(); err != nil {
		return nil, fmt.Errorf("fzae1 encryption: %w", err)
	}
	if o.ChunkSizeLog2 == 0 {
		o.ChunkSizeLog2 = fzae1DefaultChunkLg
	}
	if o.ChunkSizeLog2 < fzae1MinChunkLog || o.ChunkSizeLog2 > fzae1MaxChunkLog {
		return nil, fmt.Errorf("fzae1 encryption: chunk size 2^%d outside 2^%d..2^%d", o.ChunkSizeLog2, fzae1MinChunkLog, fzae1MaxChunkLog)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &fzae1Codec{pass: bytes.Clone(pass), kdf: o.KDF, chunkLog: o.ChunkSizeLog2, rand: o.Rand}, nil
}

func (*fzae1Codec) Name() string { return FZAE1 }

// keys derives Ke's AEAD and Kc from a header's parameters.
func (c *fzae1Codec) keys(hdr []byte) (cipher.AEAD, []byte, error) {
	p := KDFParams{
		Threads:   hdr[7],
		Time:      binary.BigEndian.Uint32(hdr[8:12]),
		MemoryKiB: binary.BigEndian.Uint32(hdr[12:16]),
	}
	k := argon2.IDKey(c.pass, hdr[17:33], p.Time, p.MemoryKiB, p.Threads, 64)
	b, err := aes.NewCipher(k[:32])
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, nil, err
	}
	return aead, k[32:], nil
}

func keyCheck(kc, hdr []byte) []byte {
	m := hmac.New(sha256.New, kc)
	m.Write(hdr[:fzae1CheckOff])
	return m.Sum(nil)[:16]
}

func (c *fzae1Codec) Encode(w io.Writer) (io.WriteCloser, error) {
	hdr := make([]byte, fzae1HeaderLen)
	copy(hdr, fzae1Magic)
	hdr[5] = fzae1Version
	hdr[6] = fzae1KDFArgon2id
	hdr[7] = c.kdf.Threads
	binary.BigEndian.PutUint32(hdr[8:12], c.kdf.Time)
	binary.BigEndian.PutUint32(hdr[12:16], c.kdf.MemoryKiB)
	hdr[16] = byte(c.chunkLog)
	if _, err := io.ReadFull(c.rand, hdr[17:fzae1CheckOff]); err != nil {
		return nil, fmt.Errorf("fzae1 encryption: generating salt and nonce: %w", err)
	}
	aead, kc, err := c.keys(hdr)
	if err != nil {
		return nil, fmt.Errorf("fzae1 encryption: deriving key: %w", err)
	}
	copy(hdr[fzae1CheckOff:], keyCheck(kc, hdr))
	if _, err := w.Write(hdr); err != nil {
		return nil, fmt.Errorf("fzae1 encryption: writing header: %w", err)
	}
	size := 1 << c.chunkLog
	aw := &fzae1Writer{w: w, aead: aead, aad: hdr, size: size, buf: make([]byte, size, size+fzae1TagLen)}
	copy(aw.nonce[:], hdr[33:fzae1CheckOff])
	return aw, nil
}

type fzae1Writer struct {
	w       io.Writer
	aead    cipher.AEAD
	aad     []byte
	nonce   [12]byte
	size    int
	buf     []byte
	n       int // plaintext bytes buffered
	counter uint64
	err     error
	closed  bool
}

func (aw *fzae1Writer) Write(p []byte) (int, error) {
	if aw.closed {
		return 0, errors.New("fzae1 encryption: write after close")
	}
	if aw.err != nil {
		return 0, aw.err
	}
	n := 0
	for len(p) > 0 {
		// A full chunk is sealed only once more data shows it is not the
		// last one.
		if aw.n == aw.size {
			if err := aw.seal(false); err != nil {
				return n, err
			}
		}
		k := copy(aw.buf[aw.n:aw.size], p)
		aw.n += k
		n += k
		p = p[k:]
	}
	return n, nil
}

func (aw *fzae1Writer) seal(last bool) error {
	if aw.counter >= fzae1MaxChunks {
		aw.err = errors.New("fzae1 encryption: stream too long (2^32 chunks)")
		return aw.err
	}
	binary.BigEndian.PutUint32(aw.nonce[7:11], uint32(aw.counter))
	aw.nonce[11] = 0
	if last {
		aw.nonce[11] = 1
	}
	ct := aw.aead.Seal(aw.buf[:0], aw.nonce[:], aw.buf[:aw.n], aw.aad)
	if _, err := aw.w.Write(ct); err != nil {
		aw.err = fmt.Errorf("fzae1 encryption: writing chunk %d: %w", aw.counter, err)
		return aw.err
	}
	aw.counter++
	aw.n = 0
	return nil
}

// Close seals and writes the last chunk; it does not close the writer
// underneath.
func (aw *fzae1Writer) Close() error {
	if aw.closed {
		return aw.err
	}
	aw.closed = true
	if aw.err != nil {
		return aw.err
	}
	return aw.seal(true)
}

func (c *fzae1Codec) Decode(r io.Reader) (io.ReadCloser, error) {
	hdr := make([]byte, fzae1HeaderLen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("fzae1 decryption: stream shorter than its header: %w", ErrAuth)
		}
		return nil, fmt.Errorf("fzae1 decryption: reading header: %w", err)
	}
	if string(hdr[:5]) != fzae1Magic {
		return nil, fmt.Errorf("fzae1 decryption: no %q header, not an fzae1 stream: %w", fzae1Magic, ErrAuth)
	}
	if hdr[5] != fzae1Version || hdr[6] != fzae1KDFArgon2id {
		return nil, fmt.Errorf("fzae1 decryption: unknown version %d or KDF %d: %w", hdr[5], hdr[6], ErrAuth)
	}
	p := KDFParams{Threads: hdr[7], Time: binary.BigEndian.Uint32(hdr[8:12]), MemoryKiB: binary.BigEndian.Uint32(hdr[12:16])}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("fzae1 decryption: header out of bounds: %v: %w", err, ErrAuth)
	}
	chunkLog := int(hdr[16])
	if chunkLog < fzae1MinChunkLog || chunkLog > fzae1MaxChunkLog {
		return nil, fmt.Errorf("fzae1 decryption: header out of bounds: chunk size 2^%d: %w", chunkLog, ErrAuth)
	}
	aead, kc, err := c.keys(hdr)
	if err != nil {
		return nil, fmt.Errorf("fzae1 decryption: deriving key: %w", err)
	}
	if !hmac.Equal(keyCheck(kc, hdr), hdr[fzae1CheckOff:]) {
		return nil, fmt.Errorf("fzae1 decryption: the key check failed, so the passphrase is wrong or the header was changed: %w", ErrAuth)
	}
	size := 1 << chunkLog
	ar := &fzae1Reader{r: r, aead: aead, aad: hdr, size: size, buf: make([]byte, size+fzae1TagLen+1)}
	copy(ar.nonce[:], hdr[33:fzae1CheckOff])
	return ar, nil
}

type fzae1Reader struct {
	r        io.Reader
	aead     cipher.AEAD
	aad      []byte
	nonce    [12]byte
	size     int
	buf      []byte // one stored chunk plus one byte of look-ahead
	carry    byte   // the look-ahead byte, first of the next chunk
	hasCarry bool
	plain    []byte // decrypted, not yet returned
	counter  uint64
	done     bool  // the last chunk was opened
	err      error // sticky
	closed   bool
}

func (ar *fzae1Reader) Read(p []byte) (int, error) {
	if ar.closed {
		return 0, errors.New("fzae1 decryption: read after close")
	}
	for len(ar.plain) == 0 {
		if ar.err != nil {
			return 0, ar.err
		}
		if ar.done {
			return 0, io.EOF
		}
		ar.err = ar.next()
	}
	n := copy(p, ar.plain)
	ar.plain = ar.plain[n:]
	return n, nil
}

// next reads and opens one chunk. Reading one byte past a full chunk
// tells whether it is the last.
func (ar *fzae1Reader) next() error {
	have := 0
	if ar.hasCarry {
		ar.buf[0] = ar.carry
		have, ar.hasCarry = 1, false
	}
	n, err := io.ReadFull(ar.r, ar.buf[have:])
	have += n
	last := false
	switch {
	case err == nil:
		ar.carry, ar.hasCarry = ar.buf[have-1], true
		have--
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		last = true
	default:
		return fmt.Errorf("fzae1 decryption: reading chunk %d: %w", ar.counter, err)
	}
	if have < fzae1TagLen {
		return fmt.Errorf("fzae1 decryption: stream truncated in chunk %d: %w", ar.counter, ErrAuth)
	}
	if ar.counter >= fzae1MaxChunks {
		return fmt.Errorf("fzae1 decryption: more than 2^32 chunks: %w", ErrAuth)
	}
	binary.BigEndian.PutUint32(ar.nonce[7:11], uint32(ar.counter))
	ar.nonce[11] = 0
	if last {
		ar.nonce[11] = 1
	}
	pt, err := ar.aead.Open(ar.buf[:0], ar.nonce[:], ar.buf[:have], ar.aad)
	if err != nil {
		return fmt.Errorf("fzae1 decryption: chunk %d failed authentication (changed, reordered, truncated or extended data): %w", ar.counter, ErrAuth)
	}
	ar.counter++
	ar.plain = pt
	ar.done = last
	return nil
}

func (ar *fzae1Reader) Close() error {
	ar.closed = true
	ar.plain = nil
	return nil
}
