package storagetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

// cutReader fails with io.ErrUnexpectedEOF after its data: a stream the
// network or a kill cut.
type cutReader struct{ r io.Reader }

func (c cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// RunResume checks a storage that resumes payload uploads
// (backup.UploadResume): after a Put cut after some segments of size seg,
// a Put of the same stream keeps what was stored (whole segments, counted
// as kept) and uploads the rest, and Get returns the whole stream; a Put
// of another stream over what an interrupted one stored fails with
// backup.ErrResumeDiverged instead of mixing the two.
func RunResume(t *testing.T, st backup.Storage, seg int) {
	ctx := context.Background()
	rnd := rand.New(rand.NewChaCha8([32]byte{7}))
	data := make([]byte, 4*seg+seg/2)
	for i := range data {
		data[i] = byte(rnd.Uint32())
	}
	var tokens map[string]string
	save := func(t map[string]string) error { tokens = t; return nil }

	key := "data/tar/h_resume/1/0_1/data"
	u := backup.NewUploadResume(nil, save)
	if err := st.Put(backup.WithUploadResume(ctx, u), key, cutReader{bytes.NewReader(data[:3*seg+100])}); err == nil {
		t.Fatal("a Put of a cut stream succeeded")
	}
	u = backup.NewUploadResume(tokens, save)
	if err := st.Put(backup.WithUploadResume(ctx, u), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("resumed Put: %v", err)
	}
	if k := u.KeptBytes(); k < int64(seg) || k%int64(seg) != 0 || k > 3*int64(seg) {
		t.Fatalf("the resumed Put kept %d bytes, want 1 to 3 whole segments of %d", k, seg)
	}
	rc, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after the resumed Put: %d bytes (want %d), %v", len(got), len(data), err)
	}

	key = "data/tar/h_resume/2/0_2/data"
	tokens = nil
	u = backup.NewUploadResume(nil, save)
	if err := st.Put(backup.WithUploadResume(ctx, u), key, cutReader{bytes.NewReader(data[:3*seg+100])}); err == nil {
		t.Fatal("a Put of a cut stream succeeded")
	}
	other := bytes.Clone(data)
	other[10] ^= 1
	u = backup.NewUploadResume(tokens, save)
	err = st.Put(backup.WithUploadResume(ctx, u), key, bytes.NewReader(other))
	if !errors.Is(err, backup.ErrResumeDiverged) {
		t.Fatalf("Put of another stream over an interrupted one: %v, want ErrResumeDiverged", err)
	}
	if _, err := st.Get(ctx, key); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("Get after the diverged Put: %v, want ErrNotFound", err)
	}
}
