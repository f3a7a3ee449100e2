package codec

import (
	"crypto/cipher"
	"crypto/subtle"
)

// cfb128 is AES in full-block cipher feedback mode (CFB128), the mode of
// `openssl enc -aes-256-cfb`. It is written out here because the standard
// library deprecated its CFB constructors (the mode is unauthenticated);
// we need it only for upstream's format, which is read and written with
// the same stream semantics: any split of the input gives the same output.
type cfb128 struct {
	b       cipher.Block
	reg     [16]byte // feedback register: the last ciphertext block
	ks      [16]byte // keystream for the current block
	used    int      // keystream bytes consumed; 16 means "need a new block"
	decrypt bool
}

func newCFB128(b cipher.Block, iv []byte, decrypt bool) *cfb128 {
	c := &cfb128{b: b, used: 16, decrypt: decrypt}
	copy(c.reg[:], iv)
	return c
}

// XORKeyStream implements cipher.Stream. dst and src may overlap exactly.
func (c *cfb128) XORKeyStream(dst, src []byte) {
	dst = dst[:len(src)]
	for len(src) > 0 {
		if c.used == 16 && len(src) >= 16 {
			// Whole-block fast path.
			c.b.Encrypt(c.ks[:], c.reg[:])
			if c.decrypt {
				copy(c.reg[:], src[:16])
				subtle.XORBytes(dst[:16], src[:16], c.ks[:])
			} else {
				subtle.XORBytes(dst[:16], src[:16], c.ks[:])
				copy(c.reg[:], dst[:16])
			}
			dst, src = dst[16:], src[16:]
			continue
		}
		if c.used == 16 {
			c.b.Encrypt(c.ks[:], c.reg[:])
			c.used = 0
		}
		in := src[0]
		out := in ^ c.ks[c.used]
		dst[0] = out
		if c.decrypt {
			c.reg[c.used] = in
		} else {
			c.reg[c.used] = out
		}
		c.used++
		dst, src = dst[1:], src[1:]
	}
}
