// Package resume reads an object over HTTP-like transports and, when the
// transfer is cut by a transient failure, reopens it at the offset reached
// (a Range request) instead of failing the whole restore.
package resume

import (
	"context"
	"fmt"
	"io"

	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/retry"
)

// OpenFunc opens the object from byte off. It returns the body and, when
// off is 0 and the server said, the object's total size (else -1). An
// implementation must fail rather than return a body that does not start
// at off.
type OpenFunc func(ctx context.Context, off int64) (body io.ReadCloser, size int64, err error)

// Reader is a resuming reader.
type Reader struct {
	ctx    context.Context
	name   string
	open   OpenFunc
	policy retry.Policy
	body   io.ReadCloser
	off    int64
	size   int64
	// Resumes counts the reopenings after a cut.
	Resumes int
}

// Open opens the object at offset 0, retrying under policy.
func Open(ctx context.Context, name string, policy retry.Policy, open OpenFunc) (*Reader, error) {
	r := &Reader{ctx: ctx, name: name, open: open, policy: policy, size: -1}
	if err := r.reopen(0); err != nil {
		return nil, err
	}
	return r, nil
}

// OpenOnce is Open with a single attempt at offset 0, for a storage whose
// callers already retry whole Gets (retry.Wrap): retrying here too would
// multiply the attempts. Resumes after a cut still follow policy.
func OpenOnce(ctx context.Context, name string, policy retry.Policy, open OpenFunc) (*Reader, error) {
	r := &Reader{ctx: ctx, name: name, open: open, policy: policy, size: -1}
	body, size, err := open(ctx, 0)
	if err != nil {
		return nil, err
	}
	r.body, r.size = body, size
	return r, nil
}

func (r *Reader) reopen(off int64) error {
	return retry.Do(r.ctx, r.policy, func(ctx context.Context) error {
		body, size, err := r.open(ctx, off)
		if err != nil {
			return err
		}
		if off == 0 {
			r.size = size
		}
		r.body = body
		return nil
	})
}

// Read reads on, reopening at the current offset after a transient failure
// or a body that ended before the announced size.
func (r *Reader) Read(p []byte) (int, error) {
	for {
		if err := r.ctx.Err(); err != nil {
			return 0, err
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == io.EOF && r.size >= 0 && r.off < r.size {
			err = io.ErrUnexpectedEOF
		}
		if n > 0 || err == nil || err == io.EOF {
			if err != nil && err != io.EOF {
				// Deliver the bytes; the failure shows on the next Read.
				err = nil
			}
			return n, err
		}
		if !(storage.IsTransient(err) || err == io.ErrUnexpectedEOF) || r.ctx.Err() != nil {
			return 0, err
		}
		r.body.Close()
		r.Resumes++
		if oerr := r.reopen(r.off); oerr != nil {
			return 0, fmt.Errorf("download of %s cut at byte %d (%w); resuming failed: %w", r.name, r.off, err, oerr)
		}
	}
}

// Close closes the current body.
func (r *Reader) Close() error { return r.body.Close() }
