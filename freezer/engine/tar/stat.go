package tar

import (
	"io/fs"
	"time"
)

// fileMeta is what the backup needs from a stat call, independent of the
// platform's stat structure.
type fileMeta struct {
	mode  fs.FileMode
	size  int64
	mtime time.Time
	atime time.Time
	ctime time.Time
	dev   uint64
	ino   uint64
	nlink uint64
	uid   int64
	gid   int64
}

func metaOf(fi fs.FileInfo) fileMeta {
	m := fileMeta{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime(), nlink: 1}
	m.atime, m.ctime = m.mtime, m.mtime
	sysMeta(fi, &m)
	return m
}

// tarMode converts a FileMode to the permission bits tar stores.
func tarMode(m fs.FileMode) int64 {
	v := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

// fileMode converts tar permission bits to a FileMode.
func fileMode(v int64) fs.FileMode {
	m := fs.FileMode(v & 0o777)
	if v&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if v&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if v&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}
