package ftp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/storage"
)

// TestClassify: only network failures and 4xx replies are worth a retry;
// our own errors (a directory at the key) and 5xx replies are final.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"a directory at the key", errors.New("a directory exists at that key"), false},
		{"550 no such file", &textproto.Error{Code: 550, Msg: "Failed to open file."}, false},
		{"530 login incorrect", &textproto.Error{Code: 530, Msg: "Login incorrect."}, false},
		{"421 too many connections", &textproto.Error{Code: 421, Msg: "There are too many connections."}, true},
		{"451 local error", &textproto.Error{Code: 451, Msg: "Failure writing to local file."}, true},
		{"control connection closed", io.EOF, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{"unknown host", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ftp.example.invalid", IsNotFound: true}}, false},
	} {
		if got := storage.IsTransient(classify(c.err)); got != c.want {
			t.Errorf("%s: transient %v, want %v", c.name, got, c.want)
		}
	}
}

// TestConnectFailuresClassified: failures while connecting go through the
// same classification: a server that is busy (421) is worth a retry, one
// that refuses us (530 greeting) or a host that does not exist is not.
func TestConnectFailuresClassified(t *testing.T) {
	// A server that answers every connection with reply; the library
	// wants a TCP connection, so it listens on loopback.
	greeting := func(reply string) func(string, string) (net.Conn, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, reply+"\r\n")
				c.Close()
			}
		}()
		return func(network, _ string) (net.Conn, error) { return net.Dial(network, ln.Addr().String()) }
	}
	failing := func(err error) func(string, string) (net.Conn, error) {
		return func(string, string) (net.Conn, error) { return nil, err }
	}
	for _, c := range []struct {
		name string
		dial func(string, string) (net.Conn, error)
		want bool
	}{
		{"530 greeting", greeting("530 This FTP server does not serve your address."), false},
		{"421 greeting", greeting("421 Too many connections, try later."), true},
		{"unknown host", failing(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ftp.example.invalid", IsNotFound: true}}), false},
		{"connection refused", failing(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
	} {
		_, err := New(context.Background(), Options{
			Container: "/backups", Host: "ftp.example.invalid", Username: "u", Password: "p",
			Timeout: 5 * time.Second, Dial: c.dial,
		})
		if err == nil {
			t.Fatalf("%s: New succeeded", c.name)
		}
		if got := storage.IsTransient(err); got != c.want {
			t.Errorf("%s: transient %v, want %v (%v)", c.name, got, c.want, err)
		}
	}
}

// TestStalledServerTimesOut: a server that greets and then never answers
// a command fails the open after Options.Timeout, instead of hanging it
// (the FTP library sets no deadline of its own after the dial).
func TestStalledServerTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "220 hello\r\n")
			held <- c // read nothing, answer nothing
		}
	}()
	defer func() {
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := New(context.Background(), Options{
			Container: "/backups", Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
			Username: "u", Password: "p", Timeout: 300 * time.Millisecond,
		})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("New succeeded against a server that never answers")
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("New: %v; want a timeout", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("New still waiting for a stalled server after 20 s (Timeout is 300 ms)")
	}
}
