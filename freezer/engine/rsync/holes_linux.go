package rsync

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// fileHoles finds the holes of f with lseek(SEEK_DATA); a file system that
// does not track holes reports the whole file as data, and then every
// chunk is read. SEEK_DATA moves the file position that the chunk reader
// reads from, so the finder puts it back before returning.
func fileHoles(f *os.File) dataFinder {
	fd := int(f.Fd())
	return func(off int64) (int64, bool) {
		cur, err := unix.Seek(fd, 0, unix.SEEK_CUR)
		if err != nil {
			return 0, false
		}
		defer unix.Seek(fd, cur, unix.SEEK_SET)
		next, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			// No data at or after off: a hole to the end of the file,
			// or off is at (or past) the end.
			var st unix.Stat_t
			if unix.Fstat(fd, &st) != nil {
				return 0, false
			}
			return max(st.Size, off), true
		}
		if err != nil {
			return 0, false
		}
		return next, true
	}
}
