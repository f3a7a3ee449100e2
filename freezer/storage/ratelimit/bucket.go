package ratelimit

import (
	"context"
	"sync"
	"time"

	"freezer.dev/freezer/internal/wait"
)

// Bucket is a token bucket of bytes: it fills at Rate bytes per second up
// to Burst, and WaitN takes n tokens, sleeping until they are there. One
// bucket can be shared by several streams, so that parallel transfers share
// the limit.
type Bucket struct {
	rate  float64 // bytes per second
	burst float64
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewBucket returns a full bucket for rate bytes/s. The burst is a tenth
// of a second's worth (at least 16 KiB), small enough that the rate holds
// over any window of a second or more.
func NewBucket(rate int64) *Bucket {
	return newBucket(rate, time.Now, wait.Sleep)
}

func newBucket(rate int64, now func() time.Time, sleep func(context.Context, time.Duration) error) *Bucket {
	burst := max(float64(rate)/10, 16<<10)
	return &Bucket{rate: float64(rate), burst: burst, now: now, sleep: sleep, tokens: burst, last: now()}
}

// MaxChunk is the largest n a single WaitN should take; callers split
// larger transfers so that tokens are never requested beyond the burst.
func (b *Bucket) MaxChunk() int { return int(b.burst) }

// WaitN takes n tokens, waiting as long as needed. The debt model (tokens
// may go negative, the caller sleeps it off) keeps concurrent callers fair
// and the long-run rate exact.
func (b *Bucket) WaitN(ctx context.Context, n int) error {
	if n <= 0 {
		return ctx.Err()
	}
	b.mu.Lock()
	now := b.now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= float64(n)
	var wait time.Duration
	if b.tokens < 0 {
		wait = time.Duration(-b.tokens / b.rate * float64(time.Second))
	}
	b.mu.Unlock()
	if wait <= 0 {
		return ctx.Err()
	}
	return b.sleep(ctx, wait)
}
