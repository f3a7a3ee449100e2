// Package idle bounds how long a storage connection may make no progress:
// every storage that talks to a server (swift, s3, ssh, ftp) dials through
// it, so a server that stops answering in the middle of a transfer (a
// stopped process, a dead link without a reset) fails the call after the
// idle timeout, naming the server, instead of hanging the backup.
package idle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"freezer.dev/freezer/freezer/storage"
)

// DefaultTimeout is the idle timeout when none is configured: long enough
// for a busy server to answer a large request, short enough that a stalled
// one is noticed well before an operator gives up.
const DefaultTimeout = 60 * time.Second

// Timeout reads the idle_timeout option (seconds); "" means DefaultTimeout.
func Timeout(v storage.Values) (time.Duration, error) {
	s, err := storage.Int("idle-timeout", v.Get("idle_timeout"), int(DefaultTimeout/time.Second))
	if err != nil {
		return 0, err
	}
	if s <= 0 {
		return 0, fmt.Errorf("option idle-timeout: %d is not a positive number of seconds", s)
	}
	return time.Duration(s) * time.Second, nil
}

// Conn is a net.Conn whose reads and writes fail when the connection makes
// no progress for Timeout. A read or write that waits starts its own
// deadline, and any byte that moves in either direction pushes both
// deadlines back: an HTTP client that waits for the answer while it still
// sends a large body, or an SSH client whose reader always waits, is not
// cut while the other direction moves. A connection with nothing pending
// has no deadline at all.
type Conn struct {
	net.Conn
	Timeout time.Duration
}

// Wrap returns c bounded by timeout.
func Wrap(c net.Conn, timeout time.Duration) net.Conn {
	if timeout <= 0 {
		return c
	}
	return &Conn{Conn: c, Timeout: timeout}
}

func (c *Conn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.Timeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.Conn.SetWriteDeadline(time.Now().Add(c.Timeout))
	}
	return n, c.wrap(err)
}

func (c *Conn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.Timeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.Timeout))
	}
	return n, c.wrap(err)
}

func (c *Conn) wrap(err error) error {
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return &StallError{Addr: c.Conn.RemoteAddr().String(), Idle: c.Timeout}
}

// StallError is a read or write that made no progress for Timeout. It is a
// timeout net.Error, which the storages retry as transient.
type StallError struct {
	Addr string
	Idle time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("server %s stalled: no data moved for %s (idle-timeout)", e.Addr, e.Idle)
}

// Timeout reports true: a StallError is a timeout.
func (e *StallError) Timeout() bool { return true }

// Temporary reports true: the next attempt may meet a live server.
func (e *StallError) Temporary() bool { return true }

// Unwrap makes errors.Is(err, os.ErrDeadlineExceeded) hold.
func (e *StallError) Unwrap() error { return os.ErrDeadlineExceeded }

// Dialer returns a DialContext that bounds connecting by timeout and wraps
// each connection in Conn.
func Dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return Wrap(c, timeout), nil
	}
}
