package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/klauspost/compress/zlib"
)

// probeLen is how much of an OpenSSL-format plaintext is decrypted to
// recognise the right key: one tar block, the longest check below.
const probeLen = 512

// plausibleStart reports whether p, the first decrypted bytes of a stream
// (all of it when shorter than probeLen), starts the way a stream of the
// named compression does. With a wrong key p is uniformly random, so each
// check must make a false match unlikely: the weakest (zlib) is backed by
// actually inflating the probe.
func plausibleStart(compression string, p []byte) bool {
	switch compression {
	case Gzip:
		// ID1 ID2, CM=deflate, reserved FLG bits clear.
		return len(p) >= 4 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8 && p[3]&0xe0 == 0
	case Bzip2:
		if len(p) < 4 || !bytes.HasPrefix(p, []byte("BZh")) || p[3] < '1' || p[3] > '9' {
			return false
		}
		if len(p) < 10 {
			return true
		}
		// A block header or, for empty input, the end-of-stream marker.
		return bytes.Equal(p[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}) ||
			bytes.Equal(p[4:10], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90})
	case Xz:
		return bytes.HasPrefix(p, []byte{0xfd, '7', 'z', 'X', 'Z', 0})
	case Zstd:
		if len(p) < 4 {
			return false
		}
		if bytes.Equal(p[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
			return true
		}
		// Skippable frame, magic 0x184D2A5?.
		return p[0]&0xf0 == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18
	case Zlib:
		return plausibleZlib(p)
	case None:
		return plausibleTar(p)
	case MsgpackList:
		return plausibleMsgpackList(p)
	}
	return false
}

// plausibleMsgpackList checks for an array header, then (unless the array
// is empty, and so the whole stream) a map header and a string key: about
// one random probe in 1,500 passes, and the engine's decoder catches the
// rest.
func plausibleMsgpackList(p []byte) bool {
	var n, hdr int
	switch {
	case len(p) >= 1 && p[0]&0xf0 == 0x90:
		n, hdr = int(p[0]&0x0f), 1
	case len(p) >= 3 && p[0] == 0xdc:
		n, hdr = int(p[1])<<8|int(p[2]), 3
	case len(p) >= 5 && p[0] == 0xdd:
		n, hdr = 1, 5 // a count this large is never all read here
		if p[1]|p[2]|p[3]|p[4] == 0 {
			n = 0
		}
	default:
		return false
	}
	if n == 0 {
		return len(p) == hdr
	}
	p = p[hdr:]
	switch {
	case len(p) >= 2 && p[0]&0xf0 == 0x80 && p[0] != 0x80:
		p = p[1:]
	case len(p) >= 4 && (p[0] == 0xde || p[0] == 0xdf):
		if p[0] == 0xde {
			p = p[3:]
		} else if len(p) >= 6 {
			p = p[5:]
		} else {
			return false
		}
	default:
		return false
	}
	return p[0]&0xe0 == 0xa0 || p[0] == 0xd9 || p[0] == 0xda || p[0] == 0xdb
}

func plausibleZlib(p []byte) bool {
	if len(p) < 2 || p[0]&0x0f != 8 || p[0]>>4 > 7 || (uint16(p[0])<<8|uint16(p[1]))%31 != 0 || p[1]&0x20 != 0 {
		return false
	}
	zr, err := zlib.NewReader(bytes.NewReader(p))
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, zr)
	// The probe is a prefix, so running out of input is expected; any
	// other error means this is not zlib data.
	return err == nil || errors.Is(err, io.ErrUnexpectedEOF)
}

// plausibleTar checks the first 512-byte tar block: all zeros (an empty
// archive) or a header whose checksum field matches.
func plausibleTar(p []byte) bool {
	if len(p) < 512 {
		return false
	}
	h := p[:512]
	if bytes.Count(h, []byte{0}) == 512 {
		return true
	}
	field := bytes.Trim(h[148:156], " \x00")
	want, err := strconv.ParseUint(string(field), 8, 32)
	if err != nil {
		return false
	}
	var unsigned uint64
	var signed int64
	for i, b := range h {
		if i >= 148 && i < 156 {
			b = ' '
		}
		unsigned += uint64(b)
		signed += int64(int8(b))
	}
	return want == unsigned || int64(want) == signed
}

// magicName describes the expected start for error messages.
func magicName(compression string) string {
	switch compression {
	case None:
		return "an uncompressed tar archive"
	case MsgpackList:
		return "an uncompressed rsync header list"
	}
	return fmt.Sprintf("%s data", compression)
}
