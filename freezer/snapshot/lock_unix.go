//go:build unix

package snapshot

import (
	"os"
	"syscall"
)

// tryLock takes an exclusive lock on f without waiting. The kernel drops it
// when the process dies, however it dies: that is how Recover tells a live
// run's journal entry from a crashed one's.
func tryLock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
