//go:build linux

package tar

import (
	"io/fs"
	"syscall"
	"time"
)

func sysMeta(fi fs.FileInfo, m *fileMeta) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	m.dev, m.ino, m.nlink = uint64(st.Dev), uint64(st.Ino), uint64(st.Nlink)
	m.uid, m.gid = int64(st.Uid), int64(st.Gid)
	m.atime = time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec))
	m.ctime = time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec))
}

// statMeta stats path without allocating a FileInfo; follow selects
// stat(2) over lstat(2).
func statMeta(path string, follow bool) (fileMeta, error) {
	var st syscall.Stat_t
	var err error
	for {
		if follow {
			err = syscall.Stat(path, &st)
		} else {
			err = syscall.Lstat(path, &st)
		}
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		op := "lstat"
		if follow {
			op = "stat"
		}
		return fileMeta{}, &fs.PathError{Op: op, Path: path, Err: err}
	}
	m := fileMeta{
		mode:  unixMode(uint32(st.Mode)),
		size:  st.Size,
		mtime: time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)),
		atime: time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec)),
		ctime: time.Unix(int64(st.Ctim.Sec), int64(st.Ctim.Nsec)),
		dev:   uint64(st.Dev),
		ino:   uint64(st.Ino),
		nlink: uint64(st.Nlink),
		uid:   int64(st.Uid),
		gid:   int64(st.Gid),
	}
	return m, nil
}

// unixMode converts st_mode as os.Lstat does.
func unixMode(mode uint32) fs.FileMode {
	m := fs.FileMode(mode & 0o777)
	switch mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
