//go:build !linux

package tar

import (
	"errors"
	"os"
	"time"
)

// fileTimesOnFD reports that setFileTimes works here.
const fileTimesOnFD = false

// setSymlinkTimes is a no-op here: os.Root has no way to set the times of
// a link itself on this platform.
func setSymlinkTimes(dir *os.Root, name string, atime, mtime time.Time) error { return nil }

// setFileTimes is not available here; the caller sets the times by name.
func setFileTimes(f *os.File, atime, mtime time.Time) error { return errors.ErrUnsupported }
