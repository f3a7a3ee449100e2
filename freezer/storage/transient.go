package storage

import (
	"context"
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
// expired context, ErrNotFound-style answers and everything unknown are
// not transient, so a retry never hides a real failure for long.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
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
