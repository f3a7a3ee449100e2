package jobcache

import (
	"context"
	"sync"
	"time"
)

// rounds shares reads between concurrent requests for the same key (a
// project), like a group commit: a request joins the round that has not
// started yet, or starts one when none runs; the round's read gets the
// inputs of every request in it. A round's read begins after each of its
// requests arrived, so every answer reflects every write committed before
// its request — what the request's own read would have given — while
// under load one database round trip serves many requests. When idle, a
// request starts its round at once: sharing adds no wait.
type rounds[In, Out any] struct {
	mu sync.Mutex
	m  map[string]*roundState[In, Out]
	// reads counts the rounds run (for tests and /metrics).
	reads int64
}

type roundState[In, Out any] struct {
	running bool            // a round of the key is under way
	next    *round[In, Out] // the round to start when it ends; joined by arrivals
}

type round[In, Out any] struct {
	done chan struct{}
	ins  []In
	out  Out
	err  error
}

// roundTimeout bounds a shared read: no single request's context can
// cancel it for the others.
const roundTimeout = 30 * time.Second

// do joins or starts a round of key with input in; read is the round's
// read (every caller of one rounds passes the same function).
func (c *rounds[In, Out]) do(ctx context.Context, key string, in In, read func(ctx context.Context, key string, ins []In) (Out, error)) (Out, error) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*roundState[In, Out]{}
	}
	st := c.m[key]
	if st == nil {
		st = &roundState[In, Out]{}
		c.m[key] = st
	}
	if st.next == nil {
		st.next = &round[In, Out]{done: make(chan struct{})}
	}
	r := st.next
	r.ins = append(r.ins, in)
	lead := !st.running
	if lead {
		st.running, st.next = true, nil
	}
	c.mu.Unlock()
	if lead {
		c.run(context.WithoutCancel(ctx), key, st, r, read)
	}
	select {
	case <-r.done:
		return r.out, r.err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// run makes round r's read, then starts the round that requests joined
// meanwhile, if any (in its own goroutine: the request that led r goes on
// with its own work).
func (c *rounds[In, Out]) run(ctx context.Context, key string, st *roundState[In, Out], r *round[In, Out], read func(ctx context.Context, key string, ins []In) (Out, error)) {
	qctx, cancel := context.WithTimeout(ctx, roundTimeout)
	r.out, r.err = read(qctx, key, r.ins)
	cancel()
	close(r.done)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if next := st.next; next != nil {
		st.next = nil
		go c.run(ctx, key, st, next, read)
		return
	}
	st.running = false
	delete(c.m, key) // idle: the map holds only keys being read
}

// stats returns the rounds run and the keys in the map (for tests).
func (c *rounds[In, Out]) stats() (reads int64, keys int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads, len(c.m)
}
