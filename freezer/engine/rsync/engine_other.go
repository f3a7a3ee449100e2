//go:build !linux

package rsync

import (
	"context"
	"errors"
	"io"

	"freezer.dev/freezer/freezer/backup"
)

var errUnsupported = errors.New("the rsync engine is only built for Linux")

// Backup is not available on this platform.
func (e *Engine) Backup(ctx context.Context, req backup.BackupRequest, out io.Writer) (backup.Stats, error) {
	return backup.Stats{}, errUnsupported
}

// Restore is not available on this platform.
func (e *Engine) Restore(ctx context.Context, req backup.RestoreRequest, in io.Reader) (backup.Stats, error) {
	return backup.Stats{}, errUnsupported
}
