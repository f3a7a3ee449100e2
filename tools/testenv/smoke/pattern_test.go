package smoke

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"
)

func TestPatternIsDeterministicAndSeekable(t *testing.T) {
	const size = 1<<20 + 13
	whole, err := io.ReadAll(NewPattern(7, size))
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != size {
		t.Fatalf("read %d bytes, want %d", len(whole), size)
	}
	again, _ := io.ReadAll(NewPattern(7, size))
	if !bytes.Equal(whole, again) {
		t.Fatal("same seed gave different bytes")
	}
	other, _ := io.ReadAll(NewPattern(8, size))
	if bytes.Equal(whole[:64], other[:64]) {
		t.Fatal("different seeds gave the same bytes")
	}
	// Odd offsets and odd read sizes must give the same bytes as one pass.
	p := NewPattern(7, size)
	for _, off := range []int64{0, 1, 7, 8, 9, 4095, size - 3} {
		if _, err := p.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 11)
		n, _ := io.ReadFull(p, buf)
		if !bytes.Equal(buf[:n], whole[off:off+int64(n)]) {
			t.Fatalf("at offset %d: got %x, want %x", off, buf[:n], whole[off:off+int64(n)])
		}
	}
	if end, _ := p.Seek(0, io.SeekEnd); end != size {
		t.Fatalf("SeekEnd = %d, want %d", end, size)
	}
	if n, err := p.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Fatalf("read at end = %d, %v; want 0, EOF", n, err)
	}
	if _, err := p.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("negative seek accepted")
	}
	// Not all zeroes and not trivially repeating.
	if sha256.Sum256(whole[:4096]) == sha256.Sum256(whole[4096:8192]) {
		t.Fatal("pattern repeats every 4 KiB")
	}
}
