package rsync

import (
	"fmt"

	"freezer.dev/freezer/freezer/backup"
)

// The archive-damage errors and the exclude matcher are package backup's,
// shared with the tar engine, so the agent classifies both engines'
// failures alike and --exclude means the same thing for both.
var (
	// ErrCorrupt is wrapped by restore errors caused by the archive itself.
	ErrCorrupt = backup.ErrCorrupt
	// ErrUnsafePath is wrapped when an archive names a path outside the
	// target or through a symbolic link.
	ErrUnsafePath = backup.ErrUnsafePath
)

// excludeMatcher applies --exclude as the tar engine does (GNU tar's
// unanchored wildcards on the path relative to the backed-up directory);
// upstream's rsyncv2 matched file base names only, which this includes.
func excludeMatcher(patterns []string) (func(rel string) bool, error) {
	return backup.ExcludeMatcher(patterns)
}

type corruptError struct{ err error }

func (e *corruptError) Error() string   { return e.err.Error() }
func (e *corruptError) Unwrap() []error { return []error{ErrCorrupt, e.err} }

func corruptf(format string, args ...any) error {
	return &corruptError{err: fmt.Errorf(format, args...)}
}

func unsafef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsafePath, fmt.Sprintf(format, args...))
}
