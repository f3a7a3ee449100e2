package storage

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestIsTransientNetworkErrors: net/http wraps every failure in a
// *url.Error (a net.Error); only those a retry may cure are transient.
func TestIsTransientNetworkErrors(t *testing.T) {
	// A real TLS handshake with a server whose certificate no trusted CA
	// signed.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	_, certErr := (&http.Client{Timeout: 10 * time.Second}).Get(srv.URL)
	if certErr == nil {
		t.Fatal("a self-signed certificate was accepted")
	}
	// A real refused connection: a port nobody listens on any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/")
	if !errors.Is(refused, syscall.ECONNREFUSED) {
		t.Fatalf("dialling a closed port: %v, want connection refused", refused)
	}
	// DNS answers as net/http reports them; the resolver here may not
	// reach any DNS server, so they are built, not looked up.
	dnsErr := func(notFound, temporary bool) error {
		return &url.Error{Op: "Get", URL: "https://swift.example.invalid/v1", Err: &net.OpError{
			Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "no such host", Name: "swift.example.invalid", IsNotFound: notFound, IsTemporary: temporary},
		}}
	}
	timeout := &url.Error{Op: "Get", URL: "http://127.0.0.1:8080/", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}}
	reset := &url.Error{Op: "Put", URL: "http://127.0.0.1:8080/", Err: &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ECONNRESET)}}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"unknown certificate authority", certErr, false},
		{"unknown certificate authority, marked", MarkTransient(certErr), false},
		{"no such host", dnsErr(true, false), false},
		{"DNS server failure", dnsErr(false, true), true},
		{"connection refused", refused, true},
		{"connection reset", reset, true},
		{"timeout", timeout, true},
		{"client timeout", context.DeadlineExceeded, true},
	} {
		if got := IsTransient(c.err); got != c.want {
			t.Errorf("%s (%v): IsTransient = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
