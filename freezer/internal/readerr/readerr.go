// Package readerr records the first error of a stream for callers whose
// consumer reports a failing input as an error of its own, without
// wrapping it: decompressors, archive/tar, an engine's Restore, net/http's
// request body, an FTP client's upload. With the recorded error the caller
// can tell "the input failed" (report that error, maybe retry) from "the
// consumer found the data or the server wrong".
package readerr

import (
	"io"
	"sync"
)

// Reader passes reads through to the stream it wraps and records the first
// error other than io.EOF. Err may be called from any goroutine, also while
// another reads (decompressors may read ahead on their own).
type Reader struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

// New wraps r.
func New(r io.Reader) *Reader { return &Reader{r: r} }

// Read reads from the wrapped stream.
func (e *Reader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.mu.Lock()
		if e.err == nil {
			e.err = err
		}
		e.mu.Unlock()
	}
	return n, err
}

// Err returns the first error other than io.EOF that the wrapped stream
// returned, or nil.
func (e *Reader) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}
