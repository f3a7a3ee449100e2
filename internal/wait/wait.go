// Package wait holds the one context-aware sleep of every program: the
// storage decorators' backoff and rate limit, the API's database connect and
// transaction retries all wait with it, so a cancelled context (SIGTERM, a
// --timeout) ends every wait at once.
package wait

import (
	"context"
	"time"
)

// Sleep waits d or until ctx is done, whichever comes first, and returns
// ctx's error in the second case. Callers that test their backoff inject a
// function of the same signature that does not wait.
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
