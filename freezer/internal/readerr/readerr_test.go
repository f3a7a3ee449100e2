package readerr

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

func TestEOFIsNotRecorded(t *testing.T) {
	r := New(strings.NewReader("hello"))
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "hello" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	if r.Err() != nil {
		t.Fatalf("Err after a clean EOF = %v, want nil", r.Err())
	}
}

func TestFirstErrorIsKept(t *testing.T) {
	first, second := errors.New("first"), errors.New("second")
	errs := []error{first, second}
	r := New(readerFunc(func([]byte) (int, error) {
		err := errs[0]
		errs = errs[1:]
		return 0, err
	}))
	for _, want := range []error{first, second} {
		if _, err := r.Read(make([]byte, 1)); err != want {
			t.Fatalf("Read = %v, want %v passed through", err, want)
		}
	}
	if r.Err() != first {
		t.Fatalf("Err = %v, want the first error", r.Err())
	}
}

// TestErrWhileReading: Err is safe beside a reading goroutine (run with -race).
func TestErrWhileReading(t *testing.T) {
	boom := errors.New("boom")
	r := New(io.MultiReader(strings.NewReader(strings.Repeat("x", 1<<16)), iotest.ErrReader(boom)))
	var wg sync.WaitGroup
	wg.Go(func() { io.Copy(io.Discard, iotest.OneByteReader(r)) })
	for r.Err() == nil {
		runtime.Gosched()
	}
	wg.Wait()
	if r.Err() != boom {
		t.Fatalf("Err = %v, want %v", r.Err(), boom)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
