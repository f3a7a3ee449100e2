package ratelimit

import (
	"context"
	"io"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
)

// Storage limits the bytes flowing through Put and Get of an inner storage.
type Storage struct {
	backup.Storage
	up, down *Bucket
}

// Wrap limits inner to upload and download bytes per second; a value ≤ 0
// means no limit in that direction. With no limit at all inner is returned
// unchanged.
func Wrap(inner backup.Storage, upload, download int64) backup.Storage {
	if upload <= 0 && download <= 0 {
		return inner
	}
	s := &Storage{Storage: inner}
	if upload > 0 {
		s.up = NewBucket(upload)
	}
	if download > 0 {
		s.down = NewBucket(download)
	}
	return s
}

// WrapBuckets is Wrap with given (possibly shared) buckets; nil is no limit.
func WrapBuckets(inner backup.Storage, up, down *Bucket) *Storage {
	return &Storage{Storage: inner, up: up, down: down}
}

// Put paces the reads the backend makes from r.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) error {
	if s.up != nil {
		lr := &Reader{ctx: ctx, r: r, b: s.up}
		if sk, ok := r.(io.Seeker); ok {
			// A retry.Storage below retries only a stream it can rewind;
			// hiding the Seeker would cost every limited Put its retries.
			r = seekReader{Reader: lr, Seeker: sk}
		} else {
			r = lr
		}
	}
	return s.Storage.Put(ctx, key, r)
}

// seekReader is a paced reader that can be rewound; bytes read again
// after a Seek are sent again, so they are paced again.
type seekReader struct {
	*Reader
	io.Seeker
}

// Get paces the caller's reads.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Storage.Get(ctx, key)
	if err != nil || s.down == nil {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{&Reader{ctx: ctx, r: rc, b: s.down}, rc}, nil
}

// Limits reports the upload and download rates in bytes/s; 0 is none.
func (s *Storage) Limits() (upload, download int64) {
	if s.up != nil {
		upload = int64(s.up.rate)
	}
	if s.down != nil {
		download = int64(s.down.rate)
	}
	return upload, download
}

// Unwrap returns the limited storage.
func (s *Storage) Unwrap() backup.Storage { return s.Storage }

// String names the inner storage.
func (s *Storage) String() string { return s.Storage.String() }

// Reader paces reads from r through bucket b.
type Reader struct {
	ctx context.Context
	r   io.Reader
	b   *Bucket
}

// NewReader returns r paced by b.
func NewReader(ctx context.Context, r io.Reader, b *Bucket) *Reader {
	return &Reader{ctx: ctx, r: r, b: b}
}

// Read reads at most a burst's worth and then pays for what it got.
func (r *Reader) Read(p []byte) (int, error) {
	if m := r.b.MaxChunk(); len(p) > m {
		p = p[:m]
	}
	n, err := r.r.Read(p)
	if werr := r.b.WaitN(r.ctx, n); werr != nil && err == nil {
		err = werr
	}
	return n, err
}

// Close closes the inner storage when it holds connections.
func (s *Storage) Close() error { return storage.Close(s.Storage) }
