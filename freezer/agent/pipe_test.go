package agent

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"
)

func TestQueuePipeCarriesEverything(t *testing.T) {
	data := make([]byte, 3<<20+123)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	p := newQueuePipe(3, 64<<10)
	go func() {
		r := bytes.NewReader(data)
		buf := make([]byte, 10000) // odd sizes across chunk boundaries
		for {
			n, err := r.Read(buf)
			if n > 0 {
				if _, werr := p.Write(buf[:n]); werr != nil {
					t.Error(werr)
					return
				}
			}
			if err == io.EOF {
				break
			}
		}
		p.CloseWrite(nil)
	}()
	got, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("got %d bytes, different from the %d written", len(got), len(data))
	}
}

func TestQueuePipeErrorsPropagate(t *testing.T) {
	boom := errors.New("engine failed")
	p := newQueuePipe(2, 4096)
	go func() {
		p.Write([]byte("partial"))
		p.CloseWrite(boom)
	}()
	if _, err := io.ReadAll(p); !errors.Is(err, boom) {
		t.Fatalf("reader got %v, want the writer's error", err)
	}

	// A reader that gives up unblocks a writer stuck on a full queue.
	stop := errors.New("storage failed")
	p = newQueuePipe(1, 4096)
	done := make(chan error, 1)
	go func() {
		_, err := p.Write(make([]byte, 1<<20))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	p.CloseRead(stop)
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Fatalf("writer got %v, want the reader's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("writer still blocked after the reader closed")
	}
}

// TestQueuePipeBoundedMemory checks the bound the pipeline's memory claim
// rests on: a writer can get at most depth chunks ahead of a reader.
func TestQueuePipeBoundedMemory(t *testing.T) {
	p := newQueuePipe(4, 4096)
	written := make(chan int, 1)
	go func() {
		n := 0
		for i := 0; i < 100; i++ {
			m, err := p.Write(make([]byte, 4096))
			n += m
			if err != nil {
				break
			}
		}
		written <- n
	}()
	time.Sleep(50 * time.Millisecond)
	p.CloseRead(nil)
	n := <-written
	// depth queued chunks, plus the one being filled when it blocked.
	if n > 5*4096 {
		t.Fatalf("writer got %d bytes ahead of a reader that read nothing", n)
	}
}

// oddReader returns at most max bytes per Read, and its error with the
// last bytes.
type oddReader struct {
	r   io.Reader
	max int
	err error
}

func (o *oddReader) Read(b []byte) (int, error) {
	n, err := o.r.Read(b[:min(len(b), o.max)])
	if err == io.EOF && o.err != nil {
		return n, o.err
	}
	return n, err
}

// TestQueuePipeReadFrom: io.Copy into the pipe reads straight into its
// chunks; every byte arrives in order, a source's error is returned as
// it is, and a reader that stops unblocks the copy.
func TestQueuePipeReadFrom(t *testing.T) {
	data := make([]byte, 3<<20+123)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	p := newQueuePipe(3, 64<<10)
	if _, ok := io.Writer(p).(io.ReaderFrom); !ok {
		t.Fatal("queuePipe is not an io.ReaderFrom")
	}
	copied := make(chan int64, 1)
	go func() {
		n, err := io.Copy(p, &oddReader{r: bytes.NewReader(data), max: 10000})
		if err != nil {
			t.Error(err)
		}
		p.CloseWrite(nil)
		copied <- n
	}()
	got, err := io.ReadAll(p)
	if err != nil {
		t.Fatal(err)
	}
	if n := <-copied; n != int64(len(data)) || sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("io.Copy reported %d bytes, reader got %d, want %d identical", n, len(got), len(data))
	}

	boom := errors.New("storage read failed")
	p2 := newQueuePipe(3, 4096)
	go func() { io.Copy(io.Discard, p2) }()
	if _, err := io.Copy(p2, &oddReader{r: bytes.NewReader(make([]byte, 10000)), max: 3000, err: boom}); !errors.Is(err, boom) {
		t.Fatalf("io.Copy returned %v, want the source's error", err)
	}

	stop := errors.New("decoder failed")
	p3 := newQueuePipe(1, 4096)
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(p3, bytes.NewReader(make([]byte, 1<<20)))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	p3.CloseRead(stop)
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Fatalf("io.Copy got %v, want the reader's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("io.Copy still blocked after the reader closed")
	}
}
