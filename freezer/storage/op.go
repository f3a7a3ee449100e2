package storage

import (
	"context"
	"time"
)

// Op names a backup.Storage method, for the decorators that count, log or
// fail calls by method (observe, faulty).
type Op string

// The four Storage methods.
const (
	OpPut    Op = "put"
	OpGet    Op = "get"
	OpList   Op = "list"
	OpDelete Op = "delete"
)

// Sleep waits d or until ctx is done, whichever comes first, and returns
// ctx's error in the second case. The retry and rate-limit decorators wait
// with it (their tests inject a Sleep that does not wait).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
