package segment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/storage/storagetest"
)

func TestRunSplitsInOrderWithBoundedParallelism(t *testing.T) {
	const size, n = 1000, 10_500
	var (
		mu       sync.Mutex
		got      = map[int][]byte{}
		inFlight atomic.Int32
		peak     atomic.Int32
		begun    int
	)
	p := Plan{
		Size: size, Parallel: 3,
		Begin: func(context.Context) error { begun++; return nil },
		Part: func(ctx context.Context, i int, b []byte) error {
			c := inFlight.Add(1)
			for {
				old := peak.Load()
				if c <= old || peak.CompareAndSwap(old, c) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			inFlight.Add(-1)
			mu.Lock()
			got[i] = bytes.Clone(b)
			mu.Unlock()
			return nil
		},
	}
	var want bytes.Buffer
	res, err := p.Run(context.Background(), io.TeeReader(storagetest.Generator(1, n), &want))
	if err != nil {
		t.Fatal(err)
	}
	if res.Parts != 11 || res.Bytes != n || res.Single || begun != 1 {
		t.Fatalf("result %+v, begun %d", res, begun)
	}
	if peak.Load() > 3 || peak.Load() < 2 {
		t.Fatalf("peak parallelism %d, want 2..3", peak.Load())
	}
	var joined []byte
	for i := range 11 {
		if i < 10 && len(got[i]) != size {
			t.Fatalf("part %d has %d bytes", i, len(got[i]))
		}
		joined = append(joined, got[i]...)
	}
	if !bytes.Equal(joined, want.Bytes()) {
		t.Fatal("parts do not join to the stream")
	}
}

func TestRunSingle(t *testing.T) {
	for _, n := range []int64{0, 1, 999, 1000} {
		var single []byte
		called := false
		p := Plan{Size: 1000, Parallel: 2,
			Single: func(_ context.Context, b []byte) error { called = true; single = bytes.Clone(b); return nil },
			Part:   func(context.Context, int, []byte) error { return fmt.Errorf("Part called") },
		}
		res, err := p.Run(context.Background(), storagetest.Generator(2, n))
		if n == 1000 {
			// Exactly one full chunk: ReadFull cannot know it was the last,
			// so it goes as parts (and then Part fails here).
			if err == nil {
				t.Fatalf("n=%d: want the Part path", n)
			}
			continue
		}
		if err != nil || !called || !res.Single || int64(len(single)) != n {
			t.Fatalf("n=%d: err %v called %v res %+v", n, err, called, res)
		}
	}
}

func TestRunEmptyWithoutSingle(t *testing.T) {
	p := Plan{Size: 10, Part: func(context.Context, int, []byte) error { return fmt.Errorf("no part expected") }}
	res, err := p.Run(context.Background(), bytes.NewReader(nil))
	if err != nil || res.Parts != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestRunPartFailureStops(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int32
	p := Plan{Size: 100, Parallel: 2, Part: func(ctx context.Context, i int, b []byte) error {
		calls.Add(1)
		if i == 2 {
			return boom
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		return nil
	}}
	_, err := p.Run(context.Background(), storagetest.Generator(3, 1<<20))
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if c := calls.Load(); c > 20 {
		t.Fatalf("%d parts uploaded after a failure; reading should stop", c)
	}
}

func TestRunReadFailure(t *testing.T) {
	p := Plan{Size: 100, Parallel: 2, Part: func(context.Context, int, []byte) error { return nil }}
	_, err := p.Run(context.Background(), storagetest.FailingReader(storagetest.Generator(3, 1000), 450))
	if !errors.Is(err, storagetest.ErrInjected) {
		t.Fatalf("err %v", err)
	}
}

func TestRunBadSize(t *testing.T) {
	if _, err := (Plan{}).Run(context.Background(), bytes.NewReader(nil)); err == nil {
		t.Fatal("zero size accepted")
	}
}

// A source that fails with io.ErrUnexpectedEOF (a truncated compressed
// stream) must fail the upload, not end it early.
func TestRunSourceUnexpectedEOFIsAnError(t *testing.T) {
	p := Plan{Size: 100, Parallel: 2, Part: func(context.Context, int, []byte) error { return nil },
		Single: func(context.Context, []byte) error { return nil }}
	for _, at := range []int64{50, 250} {
		r := io.MultiReader(storagetest.Generator(1, at), &errAfter{err: io.ErrUnexpectedEOF})
		if _, err := p.Run(context.Background(), r); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("at %d: err %v, want the source's io.ErrUnexpectedEOF", at, err)
		}
	}
}

type errAfter struct{ err error }

func (e *errAfter) Read([]byte) (int, error) { return 0, e.err }
