package openstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Wait bounds a poll: every wait on a cloud resource has a deadline,
// never an unbounded loop.
type Wait struct {
	// Timeout is how long to wait in all; zero means DefaultWaitTimeout.
	Timeout time.Duration
	// Interval is the first pause between polls, doubled up to 10 s; zero
	// means 1 s.
	Interval time.Duration
}

// DefaultWaitTimeout is how long a resource may take to reach a state
// when no timeout is given: long enough for a large image upload to be
// checksummed and stored.
const DefaultWaitTimeout = 30 * time.Minute

// Until calls done until it reports true, returns an error that is not
// transient, or the timeout passes. what names the awaited state.
func (w Wait) Until(ctx context.Context, what string, done func(ctx context.Context) (bool, error)) error {
	timeout, iv := w.Timeout, w.Interval
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	if iv <= 0 {
		iv = time.Second
	}
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := done(ctx)
		switch {
		case err == nil && ok:
			return nil
		case err != nil && !Transient(err):
			return err
		}
		last = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().Add(iv).After(deadline) {
			if last != nil {
				return fmt.Errorf("%s: not reached within %s (last error: %w)", what, timeout, last)
			}
			return fmt.Errorf("%s: not reached within %s", what, timeout)
		}
		t := time.NewTimer(iv)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if iv *= 2; iv > 10*time.Second {
			iv = 10 * time.Second
		}
	}
}

// Transient reports whether err is worth retrying: a 5xx, 408 or 429
// answer, or a failed connection.
func Transient(err error) bool {
	var ec gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ec) {
		return ec.Actual >= 500 || ec.Actual == http.StatusRequestTimeout || ec.Actual == http.StatusTooManyRequests
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne)
}

// NotFound reports whether err is a 404 answer.
func NotFound(err error) bool {
	return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
}
