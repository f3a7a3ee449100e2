//go:build unix

package btrfs

import "syscall"

// fsMagic is the file system type (f_type) of the file system holding path.
func fsMagic(path string) (uint32, error) {
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(path, &sfs); err != nil {
		return 0, err
	}
	return uint32(sfs.Type), nil
}

// inode is path's inode number; with follow false a symbolic link's own.
func inode(path string, follow bool) (uint64, error) {
	var st syscall.Stat_t
	var err error
	if follow {
		err = syscall.Stat(path, &st)
	} else {
		err = syscall.Lstat(path, &st)
	}
	return uint64(st.Ino), err
}
