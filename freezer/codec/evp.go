package codec

import (
	"fmt"
	"hash"
)

// EVPBytesToKey derives a key and an IV from a passphrase and salt the way
// OpenSSL's EVP_BytesToKey does, which is what `openssl enc` uses when
// neither -pbkdf2 nor -iter is given:
//
//	D_1 = H^count(pass || salt), D_i = H^count(D_{i-1} || pass || salt)
//
// and key || iv are the first keyLen+ivLen bytes of D_1 || D_2 || ...
// count is OpenSSL's iteration count (1 for `openssl enc`). The
// construction is weak (a single fast hash); it exists here only to read
// and write upstream's format.
func EVPBytesToKey(newHash func() hash.Hash, pass, salt []byte, count, keyLen, ivLen int) (key, iv []byte, err error) {
	if count < 1 || keyLen < 0 || ivLen < 0 {
		return nil, nil, fmt.Errorf("EVP_BytesToKey: bad parameters count=%d keyLen=%d ivLen=%d", count, keyLen, ivLen)
	}
	h := newHash()
	out := make([]byte, 0, keyLen+ivLen+h.Size())
	var prev []byte
	for len(out) < keyLen+ivLen {
		h.Reset()
		h.Write(prev)
		h.Write(pass)
		h.Write(salt)
		d := h.Sum(nil)
		for i := 1; i < count; i++ {
			h.Reset()
			h.Write(d)
			d = h.Sum(d[:0])
		}
		out = append(out, d...)
		prev = d
	}
	return out[:keyLen:keyLen], out[keyLen : keyLen+ivLen : keyLen+ivLen], nil
}
