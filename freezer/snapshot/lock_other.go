//go:build !unix

package snapshot

import (
	"errors"
	"os"
)

// tryLock always fails here: the snapshot kinds this package drives (btrfs,
// LVM) exist only on Linux, so no journal entry is ever taken or recovered.
func tryLock(*os.File) error {
	return errors.New("snapshot journal locks are not supported on this platform")
}
