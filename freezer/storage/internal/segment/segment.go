// Package segment cuts a stream into fixed-size chunks and uploads them in
// parallel with bounded memory: at most Parallel chunks are in flight and
// one more is being filled, so memory is (Parallel+1)·Size whatever the
// stream's length. Swift segments and S3 parts both go through it; a chunk
// stays in memory until its upload succeeds, which is what lets a backend
// retry one segment without replaying the stream.
package segment

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// Plan describes one segmented upload.
type Plan struct {
	// Size is the chunk size in bytes (--max-segment-size).
	Size int
	// Parallel bounds the chunks uploaded at once; < 1 means 1.
	Parallel int
	// Single, when set, receives the whole stream instead when it fits in
	// one chunk (also when it is empty); Begin and Part are then not called.
	Single func(ctx context.Context, b []byte) error
	// Begin, when set, is called once before the first Part.
	Begin func(ctx context.Context) error
	// Part uploads chunk i (from 0). b is only valid during the call.
	Part func(ctx context.Context, i int, b []byte) error
}

// Result says what was uploaded.
type Result struct {
	Parts  int   // chunks given to Part; 0 when Single took the stream
	Single bool  // Single took the stream
	Bytes  int64 // stream length
}

// Run reads r to its end and uploads it. The first failure (a read error,
// an upload error or ctx) stops the reading, cancels the uploads in flight
// and is returned once they have all ended.
func (p Plan) Run(ctx context.Context, r io.Reader) (Result, error) {
	if p.Size <= 0 {
		return Result{}, fmt.Errorf("segment size %d: must be positive", p.Size)
	}
	par := max(p.Parallel, 1)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	sem := make(chan struct{}, par)
	free := make(chan []byte, par+1)
	for range par + 1 {
		free <- nil // allocated on first use, so a small stream costs little
	}
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		res   Result
	)
	fail := func(err error) {
		once.Do(func() { first = err; cancel(err) })
	}
	wait := func() error {
		wg.Wait()
		if first != nil {
			return first
		}
		return nil
	}

	for i := 0; ; i++ {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			fail(context.Cause(ctx))
			return res, wait()
		}
		if buf == nil {
			buf = make([]byte, p.Size)
		}
		n, rerr := fill(r, buf)
		res.Bytes += int64(n)
		last := false
		switch {
		case rerr == nil:
		case rerr == io.EOF:
			last = true
		default:
			fail(fmt.Errorf("reading the stream: %w", rerr))
			return res, wait()
		}
		if err := ctx.Err(); err != nil {
			fail(context.Cause(ctx))
			return res, wait()
		}
		if i == 0 && last && p.Single != nil {
			res.Single = true
			if err := p.Single(ctx, buf[:n]); err != nil {
				return res, err
			}
			return res, nil
		}
		if i == 0 && p.Begin != nil {
			if err := p.Begin(ctx); err != nil {
				fail(err)
				return res, wait()
			}
		}
		if n > 0 {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				fail(context.Cause(ctx))
				return res, wait()
			}
			res.Parts++
			wg.Add(1)
			go func(i int, b []byte) {
				defer wg.Done()
				defer func() { <-sem }()
				if err := p.Part(ctx, i, b); err != nil {
					fail(fmt.Errorf("uploading segment %d: %w", i, err))
				}
				free <- b[:cap(b)]
			}(i, buf[:n])
		} else {
			free <- buf
		}
		if last {
			return res, wait()
		}
	}
}

// fill reads into buf until it is full, the stream ends (io.EOF, possibly
// with n < len(buf)) or fails. Unlike io.ReadFull it never turns a source's
// own io.ErrUnexpectedEOF (a truncated compressed stream, say) into a
// normal end.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
