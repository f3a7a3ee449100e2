package storage

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
)

// transientError marks an error a retry may cure (a 5xx answer, a timeout).
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// MarkTransient marks err as worth retrying; nil stays nil. Backends mark
// server-side failures (HTTP 5xx, 408, 429, FTP 4xx replies) with it.
func MarkTransient(err error) error {
	if err == nil {
		return nil
	}
	return transientError{err}
}

// IsTransient reports whether err may go away on retry: marked with
// MarkTransient, a network error or a connection cut. A cancelled or
// expired context, ErrNotFound-style answers, a rejected server
// certificate, a host name that does not resolve and everything unknown
// are not transient, so a retry never hides a real failure for long.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || isPermanent(err) {
		return false
	}
	var te transientError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// A per-request timeout inside a client, not the caller's context
		// (callers check ctx.Err() before retrying).
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ETIMEDOUT)
}

// isPermanent reports the failures that arrive dressed as network errors
// (net/http wraps everything in a *url.Error, which is a net.Error) but
// that only a change of configuration cures. It is checked before
// MarkTransient, so a backend that marks a whole dial failure cannot make
// them retried.
func isPermanent(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		dns      *net.DNSError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || (errors.As(err, &dns) && dns.IsNotFound)
}
