package rsync

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// countingFile counts the bytes read through it.
type countingFile struct {
	*os.File
	n int64
}

func (c *countingFile) Read(p []byte) (int, error) {
	n, err := c.File.Read(p)
	c.n += int64(n)
	return n, err
}

// TestChunkReaderSkipsHoles: over a sparse file the chunk reader yields
// exactly the bytes a plain read gives (data, zeros for the holes, a hole
// at the end included) while reading far fewer of them from the file.
func TestChunkReaderSkipsHoles(t *testing.T) {
	const chunk = 64 << 10
	p := filepath.Join(t.TempDir(), "sparse")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3*chunk+777)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	// data, a 40-chunk hole, data at an unaligned offset, a 20-chunk hole
	// to the end.
	mustWriteAt(t, f, data, 0)
	mustWriteAt(t, f, data, int64(len(data))+40*chunk+123)
	size := 2*int64(len(data)) + 60*chunk + 123
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}

	f, err = os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cf := &countingFile{File: f}
	cr := newChunkReader(cf, chunk, fileHoles(f))
	var got bytes.Buffer
	for {
		c := cr.next()
		if c.err == io.EOF {
			break
		}
		if c.err != nil {
			t.Fatal(c.err)
		}
		got.Write(c.data)
		cr.release(c.data)
	}
	cr.close()
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("chunks differ from the file: %d bytes, want %d", got.Len(), len(want))
	}
	if cf.n > size/4 {
		t.Fatalf("read %d of %d bytes from the file: its holes were read, not skipped", cf.n, size)
	}
}

func mustWriteAt(t *testing.T, f *os.File, b []byte, off int64) {
	t.Helper()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
