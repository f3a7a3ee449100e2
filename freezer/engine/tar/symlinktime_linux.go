//go:build linux

package tar

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

const atSymlinkNofollow = 0x100 // AT_SYMLINK_NOFOLLOW

// fileTimesOnFD reports that setFileTimes works here.
const fileTimesOnFD = true

// setSymlinkTimes sets the times of the symbolic link name in dir itself,
// as GNU tar does; os.Root only offers Chtimes, which follows links.
func setSymlinkTimes(dir *os.Root, name string, atime, mtime time.Time) error {
	d, err := dir.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	rc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	ts := [2]syscall.Timespec{syscall.NsecToTimespec(atime.UnixNano()), syscall.NsecToTimespec(mtime.UnixNano())}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		_, _, e := syscall.Syscall6(syscall.SYS_UTIMENSAT, fd, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&ts[0])), atSymlinkNofollow, 0, 0)
		if e != 0 {
			serr = e
		}
	}); err != nil {
		return err
	}
	return serr
}

// setFileTimes sets the times of the open file f (futimens), which spares
// os.Root's path walk and symlink check of a Chtimes by name: a
// measurable share of a restore of many small files.
func setFileTimes(f *os.File, atime, mtime time.Time) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	ts := [2]syscall.Timespec{syscall.NsecToTimespec(atime.UnixNano()), syscall.NsecToTimespec(mtime.UnixNano())}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		// A NULL path makes utimensat act on fd itself.
		_, _, e := syscall.Syscall6(syscall.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
		if e != 0 {
			serr = e
		}
	}); err != nil {
		return err
	}
	return serr
}
