package backup

import (
	"context"
	"time"
)

// StaleAborter is a storage that keeps uploads which never completed apart
// from its objects (S3's incomplete multipart uploads): invisible to List
// and Delete, they hold their parts until aborted.
type StaleAborter interface {
	// AbortStaleUnder aborts the incomplete uploads of keys below dir
	// started before cutoff and returns how many it aborted.
	AbortStaleUnder(ctx context.Context, dir string, cutoff time.Time) (int, error)
	// IncompleteUploadsUnder counts the incomplete uploads of keys below
	// dir.
	IncompleteUploadsUnder(ctx context.Context, dir string) (int, error)
}

// AbortStaleUnder aborts the incomplete uploads below dir started before
// cutoff in st, in what it wraps (Unwrap) and in the storages it combines
// (Storages), and returns how many it aborted. A storage without such
// uploads counts none.
func AbortStaleUnder(ctx context.Context, st any, dir string, cutoff time.Time) (int, error) {
	return eachAborter(st, func(a StaleAborter) (int, error) { return a.AbortStaleUnder(ctx, dir, cutoff) })
}

// IncompleteUploadsUnder counts the incomplete uploads below dir in st and
// what it wraps or combines.
func IncompleteUploadsUnder(ctx context.Context, st any, dir string) (int, error) {
	return eachAborter(st, func(a StaleAborter) (int, error) { return a.IncompleteUploadsUnder(ctx, dir) })
}

func eachAborter(st any, fn func(StaleAborter) (int, error)) (int, error) {
	n := 0
	if a, ok := st.(StaleAborter); ok {
		k, err := fn(a)
		n += k
		if err != nil {
			return n, err
		}
	}
	var inner []Storage
	if u, ok := st.(interface{ Unwrap() Storage }); ok {
		inner = append(inner, u.Unwrap())
	}
	if m, ok := st.(interface{ Storages() []Storage }); ok {
		inner = append(inner, m.Storages()...)
	}
	for _, s := range inner {
		k, err := eachAborter(s, fn)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// UploadResumer is a storage whose payload Put honours a
// backup.UploadResume in its context.
type UploadResumer interface {
	ResumesUploads() bool
}

// ResumesUploads reports whether every storage st writes to (itself, what
// it wraps, what it combines) resumes payload uploads: only then is
// resuming a backup worth its journal.
func ResumesUploads(st any) bool {
	if u, ok := st.(UploadResumer); ok {
		return u.ResumesUploads()
	}
	if u, ok := st.(interface{ Unwrap() Storage }); ok {
		return ResumesUploads(u.Unwrap())
	}
	if m, ok := st.(interface{ Storages() []Storage }); ok {
		all := m.Storages()
		for _, s := range all {
			if !ResumesUploads(s) {
				return false
			}
		}
		return len(all) > 0
	}
	return false
}
