package codec

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// The fuzz targets check that hostile input never panics, never makes a
// decoder run away with memory or time, and, for the authenticated format,
// that no change to a valid stream is ever accepted.
//
//	go test ./freezer/codec -run '^$' -fuzz FuzzAEADDecrypt -fuzztime 60s

// fuzzDrain reads at most limit bytes: decompression bombs are not what
// these targets look for.
func fuzzDrain(r io.Reader) error {
	_, err := io.Copy(io.Discard, io.LimitReader(r, 64<<20))
	return err
}

func FuzzOpenSSLDecrypt(f *testing.F) {
	pass := []byte("freezer test passphrase")
	for _, v := range opensslVectors {
		f.Add(readVector(f, v.file), uint8(0))
	}
	f.Add([]byte("Salted__"), uint8(1))
	f.Add([]byte("Salted__12345678"), uint8(2))
	f.Add([]byte{}, uint8(3))
	comps := CompressorNames()
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		comp := comps[int(which)%len(comps)]
		c, err := NewChain(ChainConfig{Compression: comp, Encryption: OpenSSL, Passphrase: pass})
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = fuzzDrain(r)
		r.Close()
	})
}

// fuzzAEADCodec is deterministic, so every fuzz worker builds the same
// valid seed streams and can tell them from changed ones.
func fuzzAEADCodec(f testing.TB) *Chain {
	c, err := NewFZAE1([]byte("fuzz passphrase"), FZAE1Options{
		KDF: cheapKDF, ChunkSizeLog2: 12,
		Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 64)),
	})
	if err != nil {
		f.Fatal(err)
	}
	comp, _ := Compressor(None)
	return &Chain{Compression: comp, Encryption: c}
}

func FuzzAEADDecrypt(f *testing.F) {
	var valid [][]byte
	for _, n := range []int{0, 1, 100, 4096, 4097, 3*4096 + 5} {
		s := encodeAll(f, fuzzAEADCodec(f), testData(uint64(n), n))
		valid = append(valid, s)
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= fzae1HeaderLen && string(data[:5]) == fzae1Magic {
			// Costly but legal KDF parameters are the bounds' job (tested
			// in TestFZAE1HostileHeader), not worth fuzzing time.
			if binary.BigEndian.Uint32(data[12:16]) > 1024 || binary.BigEndian.Uint32(data[8:12]) > 2 {
				t.Skip()
			}
		}
		c := fuzzAEADCodec(t)
		r, err := c.Decode(bytes.NewReader(data))
		if err == nil {
			err = fuzzDrain(r)
			r.Close()
		}
		isValid := false
		for _, v := range valid {
			if bytes.Equal(v, data) {
				isValid = true
			}
		}
		if isValid && err != nil {
			t.Fatalf("a valid stream failed: %v", err)
		}
		if !isValid && err == nil {
			t.Fatalf("a changed stream of %d bytes was accepted", len(data))
		}
	})
}

func FuzzDecompress(f *testing.F) {
	comps := []string{Gzip, Zlib, Bzip2, Xz, Zstd}
	for i, name := range comps {
		c := mustCompressor(f, name)
		f.Add(encodeAll(f, c, testData(1, 3000)), uint8(i))
		f.Add(encodeAll(f, c, nil), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		c, err := Compressor(comps[int(which)%len(comps)])
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = fuzzDrain(r)
		r.Close()
	})
}
