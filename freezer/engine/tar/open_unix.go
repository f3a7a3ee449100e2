//go:build linux || darwin || freebsd || netbsd || openbsd

package tar

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// O_NONBLOCK: if the file was replaced by a fifo since it was listed,
// opening it must not wait for a writer.

// createFlags are added to the flags of a file a restore creates.
// os.File makes a descriptor opened without O_NONBLOCK non-blocking, tries
// to register it with the network poller (which refuses regular files)
// and makes it blocking again: four fcntl and epoll_ctl calls per file,
// an eighth of the time a restore of many small files spent creating
// names. Opened with O_NONBLOCK, only the refused epoll_ctl is left, and
// the flag changes nothing for regular files, whose reads and writes
// never return EAGAIN.
const createFlags = syscall.O_NONBLOCK

// rawFile reads a file through plain read(2) calls: os.File would first
// try to register each regular file with the network poller and set a
// finalizer, which costs as much as the read itself for small files.
type rawFile struct{ fd int }

func openForRead(path string) (*rawFile, error) {
	flags := syscall.O_RDONLY | syscall.O_CLOEXEC | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | noAtime
	for {
		fd, err := syscall.Open(path, flags, 0)
		if err == nil {
			return &rawFile{fd: fd}, nil
		}
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.EPERM) && flags&noAtime != 0 {
			flags &^= noAtime
			continue
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
}

func (f *rawFile) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(f.fd, p)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *rawFile) Close() error { return syscall.Close(f.fd) }

// openDir opens a directory for listing without updating its access time
// where the system allows (see noAtime).
func openDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noAtime, 0)
	if err != nil && noAtime != 0 && errors.Is(err, syscall.EPERM) {
		return os.Open(path)
	}
	return f, err
}
