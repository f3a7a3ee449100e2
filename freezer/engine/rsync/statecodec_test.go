package rsync

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"io"
	"testing"
)

// TestStateCodecEntropyCodesDigests: an engine_metadata is mostly sha1 hex
// digests, which share no matches; with zstd it must still come out well
// under their size (hex carries 4 bits a character), not stored raw as zstd's
// fastest level stores blocks without matches. A level-1 backup of a large
// image stores the whole signature list again, so this decides whether it
// stays within 2 % of the file.
func TestStateCodecEntropyCodesDigests(t *testing.T) {
	var raw bytes.Buffer
	var n [8]byte
	for i := range 50000 {
		binary.LittleEndian.PutUint64(n[:], uint64(i))
		s := sha1.Sum(n[:])
		raw.WriteString(hex.EncodeToString(s[:]))
	}
	c, err := stateCodec("zstd")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := c.Encode(&out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, limit := out.Len(), raw.Len()*65/100; got > limit {
		t.Fatalf("zstd state of %d bytes of hex digests is %d bytes, want <= %d (65 %%)", raw.Len(), got, limit)
	}
	r, err := c.Decode(&out)
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, raw.Bytes()) {
		t.Fatal("the state does not decode to what was written")
	}
}
