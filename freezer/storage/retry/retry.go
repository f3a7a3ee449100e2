package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"freezer.dev/freezer/internal/wait"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/idle"
)

// Policy says how often and how long to retry.
type Policy struct {
	// Attempts is the total number of tries, at least 1. Zero means 8.
	Attempts int
	// Base is the first backoff, doubled for each retry up to Max.
	// Zero means 500 ms and 30 s.
	Base, Max time.Duration
	// Retryable decides which errors are retried; nil means
	// storage.IsTransient.
	Retryable func(error) bool
	// Sleep waits d or until ctx is done; nil means a timer. Tests inject
	// one that does not wait.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0,1) for jitter; nil means math/rand/v2.
	Rand func() float64
	// OnRetry, when set, is told about each failed try before the wait.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// Default is the policy backends use unless told otherwise: 8 tries over
// roughly a minute and a half at worst.
func Default() Policy { return Policy{}.withDefaults() }

func (p Policy) withDefaults() Policy {
	if p.Attempts <= 0 {
		p.Attempts = 8
	}
	if p.Base <= 0 {
		p.Base = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	if p.Retryable == nil {
		p.Retryable = storage.IsTransient
	}
	if p.Sleep == nil {
		p.Sleep = wait.Sleep
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	return p
}

// Backoff is the wait before retry number n (1-based): a random duration
// between half and all of min(Max, Base·2^(n-1)), so that many clients
// hitting one failed proxy do not come back in lockstep.
func (p Policy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	return time.Duration(float64(d) * (0.5 + 0.5*p.Rand()))
}

// Do calls fn until it succeeds, returns a non-retryable error, the
// attempts are used up or ctx is done. The last error is returned, wrapped
// with the number of tries when more than one was made. A server that
// stalls (no data moved for the idle timeout) is tried once more, not
// Attempts times: each try costs a whole idle timeout, and a stopped server
// would otherwise hold the run for many of them before it fails.
func Do(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	p = p.withDefaults()
	var err error
	stalls := 0
	for attempt := 1; ; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			if err == nil {
				return cerr
			}
			return fmt.Errorf("%w (giving up: %w)", err, cerr)
		}
		err = fn(ctx)
		if err == nil || !p.Retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= p.Attempts {
			return fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		var stall *idle.StallError
		if !errors.As(err, &stall) {
			stalls = 0
		} else if stalls++; stalls >= 2 {
			return fmt.Errorf("giving up, the server stalled twice in a row: %w", err)
		}
		wait := p.Backoff(attempt)
		if p.OnRetry != nil {
			p.OnRetry(attempt, wait, err)
		}
		if serr := p.Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (giving up: %w)", err, serr)
		}
	}
}

// Storage retries the calls of an inner storage.
type Storage struct {
	backup.Storage
	policy Policy
}

// Wrap returns inner with retries under policy p.
func Wrap(inner backup.Storage, p Policy) *Storage {
	return &Storage{Storage: inner, policy: p.withDefaults()}
}

// Unwrap returns the retried storage.
func (s *Storage) Unwrap() backup.Storage { return s.Storage }

// Put retries only when r can be rewound to where it started.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) error {
	seeker, ok := r.(io.Seeker)
	if !ok {
		return s.Storage.Put(ctx, key, r)
	}
	start, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return s.Storage.Put(ctx, key, r)
	}
	first := true
	return Do(ctx, s.policy, func(ctx context.Context) error {
		if !first {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return fmt.Errorf("rewinding %s for a retry: %w", key, err)
			}
		}
		first = false
		return s.Storage.Put(ctx, key, r)
	})
}

// Get retries opening the object; a failure while reading is the caller's.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := Do(ctx, s.policy, func(ctx context.Context) error {
		var err error
		rc, err = s.Storage.Get(ctx, key)
		return err
	})
	return rc, err
}

// List retries the listing.
func (s *Storage) List(ctx context.Context, dir string) ([]string, error) {
	var names []string
	err := Do(ctx, s.policy, func(ctx context.Context) error {
		var err error
		names, err = s.Storage.List(ctx, dir)
		return err
	})
	return names, err
}

// Delete retries the deletion, which is idempotent.
func (s *Storage) Delete(ctx context.Context, key string) error {
	return Do(ctx, s.policy, func(ctx context.Context) error { return s.Storage.Delete(ctx, key) })
}

// String names the inner storage.
func (s *Storage) String() string { return s.Storage.String() }

// Close closes the inner storage when it holds connections.
func (s *Storage) Close() error { return storage.Close(s.Storage) }
