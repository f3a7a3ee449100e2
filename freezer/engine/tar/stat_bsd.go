//go:build darwin || freebsd || netbsd

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
	m.atime = time.Unix(int64(st.Atimespec.Sec), int64(st.Atimespec.Nsec))
	m.ctime = time.Unix(int64(st.Ctimespec.Sec), int64(st.Ctimespec.Nsec))
}
