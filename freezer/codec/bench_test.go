package codec

import (
	"bytes"
	"io"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

// Benchmarks report MB/s of input; run them one at a time on a shared box:
//
//	go test ./freezer/codec -run '^$' -bench . -benchtime 3x

const benchSize = 32 << 20

func benchEncode(b *testing.B, c backup.Codec) {
	data := testData(1, benchSize)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := c.Encode(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		for p := data; len(p) > 0; p = p[min(len(p), 1<<20):] {
			if _, err := w.Write(p[:min(len(p), 1<<20)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDecode(b *testing.B, c backup.Codec) {
	data := testData(1, benchSize)
	enc := encodeAll(b, c, data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.Decode(bytes.NewReader(enc))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

func benchChain(b *testing.B, comp, enc string) *Chain {
	var pass []byte
	if enc != "" {
		pass = testPass
	}
	c, err := NewChain(ChainConfig{Compression: comp, Encryption: enc, Passphrase: pass})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkZstdEncode(b *testing.B)  { benchEncode(b, mustCompressor(b, Zstd)) }
func BenchmarkZstdDecode(b *testing.B)  { benchDecode(b, mustCompressor(b, Zstd)) }
func BenchmarkGzipEncode(b *testing.B)  { benchEncode(b, mustCompressor(b, Gzip)) }
func BenchmarkGzipDecode(b *testing.B)  { benchDecode(b, mustCompressor(b, Gzip)) }
func BenchmarkBzip2Encode(b *testing.B) { benchEncode(b, mustCompressor(b, Bzip2)) }

// The encryption benchmarks include one KDF run per stream, as a backup
// does.
func BenchmarkFZAE1Encrypt(b *testing.B)      { benchEncode(b, benchChain(b, None, FZAE1)) }
func BenchmarkFZAE1Decrypt(b *testing.B)      { benchDecode(b, benchChain(b, None, FZAE1)) }
func BenchmarkOpenSSLCFBEncrypt(b *testing.B) { benchEncode(b, benchChain(b, None, OpenSSL)) }

// The OpenSSL format recognises its key by the compressed stream's magic, so
// its decryption is measured with gzip underneath, as upstream stores it.
func BenchmarkGzipOpenSSLDecode(b *testing.B) { benchDecode(b, benchChain(b, Gzip, OpenSSL)) }
func BenchmarkZstdFZAE1Encode(b *testing.B)   { benchEncode(b, benchChain(b, Zstd, FZAE1)) }

// BenchmarkFZAE1KDF is the fixed cost fzae1 adds to every stream (the
// Argon2id derivation at the default cost), apart from the per-byte cost.
func BenchmarkFZAE1KDF(b *testing.B) {
	c := benchChain(b, None, FZAE1)
	for b.Loop() {
		w, err := c.Encode(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}
