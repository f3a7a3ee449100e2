//go:build linux

package rsync

import (
	"fmt"
	"os"
	"syscall"
)

// inode is what the engine reads from lstat.
type inode struct {
	mode                      uint32 // st_mode: type and permission bits, as Python's
	dev, rdev, ino, nlink     uint64
	uid, gid                  uint32
	size                      int64
	atimeNs, mtimeNs, ctimeNs int64
}

func lstatInode(path string) (inode, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return inode{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return inode{}, fmt.Errorf("lstat %s: no system stat", path)
	}
	return inode{
		mode: st.Mode, dev: st.Dev, rdev: st.Rdev, ino: st.Ino, nlink: uint64(st.Nlink),
		uid: st.Uid, gid: st.Gid, size: st.Size,
		atimeNs: st.Atim.Nano(), mtimeNs: st.Mtim.Nano(), ctimeNs: st.Ctim.Nano(),
	}, nil
}
