package resume

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/retry"
)

var noWait = retry.Policy{Attempts: 3, Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}

// cutBody serves data from off and fails after cut bytes.
type cutBody struct {
	data []byte
	cut  int
	err  error
}

func (c *cutBody) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	if c.cut == 0 {
		return 0, c.err
	}
	n := copy(p, c.data[:min(len(c.data), c.cut)])
	c.data, c.cut = c.data[n:], c.cut-n
	return n, nil
}
func (c *cutBody) Close() error { return nil }

func TestResumesAfterCuts(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	var offs []int64
	open := func(_ context.Context, off int64) (io.ReadCloser, int64, error) {
		offs = append(offs, off)
		return &cutBody{data: data[off:], cut: 3000, err: storage.MarkTransient(errors.New("reset"))}, int64(len(data)), nil
	}
	r, err := Open(context.Background(), "k", noWait, open)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if r.Resumes != 3 || offs[1] != 3000 || offs[3] != 9000 {
		t.Fatalf("resumes %d at %v", r.Resumes, offs)
	}
}

func TestShortBodyIsResumed(t *testing.T) {
	data := []byte("abcdefghij")
	open := func(_ context.Context, off int64) (io.ReadCloser, int64, error) {
		end := min(int64(len(data)), off+4) // each answer stops early with EOF
		return io.NopCloser(bytes.NewReader(data[off:end])), int64(len(data)), nil
	}
	r, _ := Open(context.Background(), "k", noWait, open)
	got, err := io.ReadAll(r)
	if err != nil || string(got) != string(data) {
		t.Fatalf("%q %v", got, err)
	}
}

func TestPermanentErrorIsReturned(t *testing.T) {
	boom := errors.New("checksum mismatch")
	open := func(_ context.Context, off int64) (io.ReadCloser, int64, error) {
		return &cutBody{data: []byte("abcdef"), cut: 2, err: boom}, 6, nil
	}
	r, _ := Open(context.Background(), "k", noWait, open)
	_, err := io.ReadAll(r)
	if !errors.Is(err, boom) || r.Resumes != 0 {
		t.Fatalf("err %v resumes %d", err, r.Resumes)
	}
}

func TestReopenFailureGivesUp(t *testing.T) {
	calls := 0
	open := func(_ context.Context, off int64) (io.ReadCloser, int64, error) {
		calls++
		if off > 0 {
			return nil, 0, storage.MarkTransient(errors.New("503"))
		}
		return &cutBody{data: []byte("abcdef"), cut: 2, err: storage.MarkTransient(errors.New("reset"))}, 6, nil
	}
	r, _ := Open(context.Background(), "k", noWait, open)
	_, err := io.ReadAll(r)
	if err == nil || calls != 4 {
		t.Fatalf("err %v after %d opens", err, calls)
	}
}
