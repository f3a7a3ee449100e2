package agent

import (
	"os"
	"syscall"
)

// fileIdentity returns fi's inode and ctime (ns), what a rename over the
// file or a change that restored its mtime alters.
func fileIdentity(fi os.FileInfo) (ino uint64, ctime int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino, st.Ctim.Nano()
	}
	return 0, 0
}
