package backup

import (
	"context"
	"errors"
)

// Sizer is a storage that can tell an object's stored size without reading
// its bytes (a stat, a HEAD), so that a fast verify can catch a truncated
// payload.
type Sizer interface {
	// Size returns the size in bytes of the object at key; a missing key
	// gives an error wrapping ErrNotFound.
	Size(ctx context.Context, key string) (int64, error)
}

// ErrSizeUnknown is returned (wrapped) by SizeOf when no storage st stands
// for can tell sizes.
var ErrSizeUnknown = errors.New("storage cannot tell object sizes")

// ErrSizeMismatch is returned (wrapped) when the copies of an object in a
// multiple storage differ in size.
var ErrSizeMismatch = errors.New("copies differ in size")

// SizeOf returns the size of key in st, asking st itself or, for a wrapper,
// what it wraps (Unwrap). It gives an error wrapping ErrSizeUnknown when
// neither is a Sizer.
func SizeOf(ctx context.Context, st any, key string) (int64, error) {
	if s, ok := st.(Sizer); ok {
		return s.Size(ctx, key)
	}
	if u, ok := st.(interface{ Unwrap() Storage }); ok {
		return SizeOf(ctx, u.Unwrap(), key)
	}
	return 0, ErrSizeUnknown
}
