package codec

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"freezer.dev/freezer/freezer/backup"
)

// Compression names as written into backup metadata ("compression"). They
// match upstream's --compression choices where upstream has them.
const (
	Gzip  = "gzip"
	Zlib  = "zlib"
	Bzip2 = "bzip2"
	Xz    = "xz"
	Zstd  = "zstd"
	None  = "none"
)

// MsgpackList names, for the openssl format's key check only, the
// uncompressed payload of the rsync engine: a msgpack array of header
// maps, where None means an uncompressed tar archive.
const MsgpackList = "msgpack-list"

// Encryption format names as written into backup metadata
// ("encryption_format").
const (
	// OpenSSL is upstream's `openssl enc -aes-256-cfb` stream.
	OpenSSL = "openssl"
	// FZAE1 is our authenticated format; see NewFZAE1.
	FZAE1 = "fzae1"
)

// CompressOptions tune a compressor. The zero value gives each algorithm's
// default.
type CompressOptions struct {
	// Level is the algorithm's own level (gzip/zlib 1-9, bzip2 1-9, zstd
	// 1-22 as the zstd CLI counts them, xz ignored); 0 means the default.
	Level int
	// Concurrency bounds the goroutines a parallel compressor uses; 0
	// means GOMAXPROCS.
	Concurrency int
}

// compressors lists every compressor by its metadata name. It is built on
// each call so that there is no package-level state to mutate.
func compressors() map[string]func(CompressOptions) (backup.Codec, error) {
	return map[string]func(CompressOptions) (backup.Codec, error){
		Gzip:  newGzip,
		Zlib:  newZlib,
		Bzip2: newBzip2,
		Xz:    newXz,
		Zstd:  newZstd,
		None:  func(CompressOptions) (backup.Codec, error) { return noneCodec{}, nil },
	}
}

// Compressor returns the named compressor with default options.
func Compressor(name string) (backup.Codec, error) {
	return NewCompressor(name, CompressOptions{})
}

// NewCompressor returns the named compressor tuned by o. An unknown name is
// an error listing the known ones.
func NewCompressor(name string, o CompressOptions) (backup.Codec, error) {
	mk, ok := compressors()[name]
	if !ok {
		return nil, fmt.Errorf("unknown compression %q (known: %s)", name, strings.Join(CompressorNames(), ", "))
	}
	if o.Level < 0 {
		return nil, fmt.Errorf("compression %s: level %d is negative", name, o.Level)
	}
	if o.Concurrency < 0 {
		return nil, fmt.Errorf("compression %s: concurrency %d is negative", name, o.Concurrency)
	}
	c, err := mk(o)
	if err != nil {
		return nil, fmt.Errorf("compression %s: %w", name, err)
	}
	return c, nil
}

// CompressorNames lists the known compression names, sorted.
func CompressorNames() []string {
	m := compressors()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// EncryptionNames lists the known encryption format names, sorted.
func EncryptionNames() []string {
	m := encryptions()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// EncryptOptions tune an encryption format. The zero value gives the
// defaults.
type EncryptOptions struct {
	// Rand supplies salts and nonces; nil means crypto/rand.
	Rand io.Reader
	// KDF is fzae1's Argon2id cost; zero means DefaultKDFParams.
	KDF KDFParams
	// ChunkSizeLog2 is fzae1's chunk size; 0 means 1 MiB.
	ChunkSizeLog2 int
}

// encryptions lists every encryption format by its metadata name.
func encryptions() map[string]func(pass []byte, compression string, o EncryptOptions) (backup.Codec, error) {
	return map[string]func([]byte, string, EncryptOptions) (backup.Codec, error){
		OpenSSL: func(pass []byte, compression string, o EncryptOptions) (backup.Codec, error) {
			return NewOpenSSL(pass, compression, o.Rand)
		},
		FZAE1: func(pass []byte, _ string, o EncryptOptions) (backup.Codec, error) {
			return NewFZAE1(pass, FZAE1Options{KDF: o.KDF, ChunkSizeLog2: o.ChunkSizeLog2, Rand: o.Rand})
		},
	}
}

// NewEncryption returns the named encryption format holding pass.
// compression names the compression applied under it: the OpenSSL format
// needs it to recognise the right key on decode (see NewOpenSSL).
func NewEncryption(format string, pass []byte, compression string, o EncryptOptions) (backup.Codec, error) {
	mk, ok := encryptions()[format]
	if !ok {
		return nil, fmt.Errorf("unknown encryption format %q (known: %s)", format, strings.Join(EncryptionNames(), ", "))
	}
	return mk(pass, compression, o)
}
