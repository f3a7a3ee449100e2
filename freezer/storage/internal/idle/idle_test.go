package idle

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// pipe is a TCP connection pair on loopback (net.Pipe has no buffers, so
// it cannot show a write that the kernel accepts).
func pipe(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-ch
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestReadStallsNamed(t *testing.T) {
	c, s := pipe(t)
	ic := Wrap(c, 200*time.Millisecond)
	start := time.Now()
	_, err := ic.Read(make([]byte, 1))
	var se *StallError
	if !errors.As(err, &se) || !errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), s.LocalAddr().String()) {
		t.Fatalf("read from a silent server: %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal("not a timeout net.Error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestWriteStalls(t *testing.T) {
	c, _ := pipe(t) // the server never reads: the buffers fill up
	ic := Wrap(c, 200*time.Millisecond)
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for err == nil && time.Now().Before(deadline) {
		_, err = ic.Write(buf)
	}
	var se *StallError
	if !errors.As(err, &se) {
		t.Fatalf("write to a server that does not read: %v", err)
	}
}

// A read that waits while writes move (an HTTP client sending a large
// body before the answer) is not cut, nor is a slow but moving transfer.
func TestProgressKeepsBothAlive(t *testing.T) {
	c, s := pipe(t)
	ic := Wrap(c, 300*time.Millisecond)
	readErr := make(chan error, 1)
	go func() {
		_, err := ic.Read(make([]byte, 1))
		readErr <- err
	}()
	go io.Copy(io.Discard, s)
	for i := 0; i < 10; i++ { // 1 s of writes, a third of the timeout apart
		if _, err := ic.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case err := <-readErr:
		t.Fatalf("the waiting read failed while writes moved: %v", err)
	default:
	}
	// Once the writes stop, the read times out.
	select {
	case err := <-readErr:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read never timed out")
	}
}
