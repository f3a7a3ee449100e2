//go:build linux

package rsync

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/user"
	"path"
	"strconv"

	"golang.org/x/sys/unix"

	"freezer.dev/freezer/freezer/backup"
)

// Restore applies one level. The header list is read first, validated and
// spooled to a scratch file (the file bytes follow all of it); then each
// entry is applied in order, reading its bytes from the stream.
//
// Every file system call is relative to a directory descriptor reached from
// the target by opening one component at a time with O_NOFOLLOW, so no
// header path can leave req.Dir or pass through a symbolic link, whatever
// earlier entries made. Directory attributes are set last, deepest first.
//
// With req.Verify set, nothing read is put in place before Verify passed
// (see stage.go). Without it the stream releases only authenticated
// bytes, and a file that a failure leaves incomplete is removed. Either
// way the error names what was not restored.
func (e *Engine) Restore(ctx context.Context, req backup.RestoreRequest, in io.Reader) (backup.Stats, error) {
	rs := &restorer{e: e, ctx: ctx, req: req, uids: map[string]int{}, gids: map[string]int{}, cacheFd: -1, rootFd: -1}
	defer rs.close()
	err := rs.run(in)
	if err != nil && !rs.committing {
		err = rs.failure(err)
	}
	return rs.stats, err
}

type restorer struct {
	e     *Engine
	ctx   context.Context
	req   backup.RestoreRequest
	bs    int64
	stats backup.Stats

	root     *os.Root
	rootFd   int
	cacheDir string
	cacheFd  int

	entF, idxF *os.File
	uids, gids map[string]int
	dirs       []hdrEntry // directory attributes, applied last
	// touched holds the times of directories whose entries this level
	// changes, as they were before: a directory the level does not list
	// is unchanged in the source, so its times are put back.
	touched   map[string][2]unix.Timespec
	chownWarn bool
	buf       []byte
	zero      []byte // a page of zeros, to find holes

	// st stages names until Verify passed; nil without Verify.
	st *stager
	// partial is a file written in place, left incomplete by a failure
	// and removed.
	partial string
	// readAll: every entry was read; committing: Verify passed and the
	// staged names are being put in place (commit names its failures).
	readAll, committing bool
}

func (rs *restorer) close() {
	if rs.cacheFd >= 0 {
		unix.Close(rs.cacheFd)
	}
	if rs.rootFd >= 0 {
		unix.Close(rs.rootFd)
	}
	if rs.root != nil {
		rs.root.Close()
	}
	for _, f := range []*os.File{rs.entF, rs.idxF} {
		if f != nil {
			f.Close()
		}
	}
	if rs.st != nil {
		rs.st.f.Close()
	}
}

func (rs *restorer) run(in io.Reader) error {
	rs.bs = int64(rs.req.Metadata.RsyncBlockSize)
	if rs.bs == 0 {
		rs.bs = DefaultBlockSize
	}
	if rs.bs < minBlockSize || rs.bs > maxBlockSize {
		return corruptf("rsync_block_size %d in the metadata: want %d..%d", rs.bs, minBlockSize, maxBlockSize)
	}
	var err error
	if rs.entF, err = rs.e.tempFile(); err != nil {
		return err
	}
	if rs.idxF, err = rs.e.tempFile(); err != nil {
		return err
	}
	if rs.req.Verify != nil && !rs.req.DryRun {
		if err := rs.newStager(); err != nil {
			return err
		}
	}
	// One buffered reader for the header and the file bytes after it.
	m := &mpReader{r: bufio.NewReaderSize(in, 1<<20)}
	count, err := rs.spoolHeader(m)
	if err != nil {
		return err
	}
	if !rs.req.DryRun {
		if rs.root, err = os.OpenRoot(rs.req.Dir); err != nil {
			return fmt.Errorf("opening the restore directory: %w", err)
		}
		if rs.rootFd, err = unix.Open(rs.req.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return fmt.Errorf("opening the restore directory: %w", err)
		}
		if err := removeStaleStages(rs.root); err != nil {
			return err
		}
	}
	rs.buf = make([]byte, 1<<20)
	rs.zero = make([]byte, 4096)
	em := newMPReader(rs.entF, 0)
	ir := bufio.NewReaderSize(rs.idxF, 64<<10)
	for range count {
		if err := rs.ctx.Err(); err != nil {
			return err
		}
		e, err := readEntry(em)
		if err != nil {
			return err
		}
		if err := rs.apply(e, m.r, ir); err != nil {
			return err
		}
		if rs.req.Progress != nil {
			rs.req.Progress(rs.stats)
		}
	}
	rs.readAll = true
	if _, err := m.r.Peek(1); err == nil {
		return corruptf("data after the last file of the archive")
	} else if err != io.EOF {
		return err
	}
	if rs.st != nil {
		if err := rs.req.Verify(); err != nil {
			return err
		}
		rs.committing = true
		if err := rs.commit(); err != nil {
			return err
		}
	}
	rs.committing = true // what follows sets attributes only
	if err := rs.untouch(); err != nil {
		return err
	}
	for i := len(rs.dirs) - 1; i >= 0; i-- {
		if err := rs.setAttrs(rs.dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

// spoolHeader reads and validates the header list into the scratch files.
func (rs *restorer) spoolHeader(m *mpReader) (int64, error) {
	count, err := m.readArrayHeader()
	if err != nil {
		return 0, corruptf("reading the header list: %w", err)
	}
	ew := newMPWriter(rs.entF)
	iw := bufio.NewWriterSize(rs.idxF, 64<<10)
	var b4 [4]byte
	idx := func(v uint32) error {
		binary.BigEndian.PutUint32(b4[:], v)
		_, err := iw.Write(b4[:])
		return err
	}
	for i := range count {
		e, err := decodeEntry(m, idx)
		if err != nil {
			if errors.Is(err, ErrUnsafePath) {
				return 0, fmt.Errorf("header entry %d: %w", i, err)
			}
			return 0, corruptf("header entry %d: %w", i, err)
		}
		writeEntry(ew, e)
	}
	if err := ew.flush(); err != nil {
		return 0, fmt.Errorf("writing scratch file: %w", err)
	}
	if err := iw.Flush(); err != nil {
		return 0, fmt.Errorf("writing scratch file: %w", err)
	}
	for _, f := range []*os.File{rs.entF, rs.idxF} {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
	}
	return count, nil
}

// errMissingParent is returned by parent when a directory on the way does
// not exist, or is not a directory (a file, or a symbolic link).
var errMissingParent = errors.New("parent directory missing")

// parent opens the directory holding rel, one component at a time without
// following links, and returns its descriptor (owned by rs) and rel's base
// name. The last directory opened is kept for the next entry.
func (rs *restorer) parent(rel string) (int, string, error) {
	dir, base := path.Split(rel)
	if dir == "" {
		return rs.rootFd, base, nil
	}
	dir = dir[:len(dir)-1]
	if rs.cacheFd >= 0 && rs.cacheDir == dir {
		return rs.cacheFd, base, nil
	}
	rs.invalidate()
	fd := rs.rootFd
	rest := dir
	for rest != "" {
		var c string
		c, rest, _ = cutSlash(rest)
		nfd, err := unix.Openat(fd, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if fd != rs.rootFd {
			unix.Close(fd)
		}
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
				return -1, "", errMissingParent
			}
			return -1, "", fmt.Errorf("opening %s: %w", dir, err)
		}
		fd = nfd
	}
	rs.cacheDir, rs.cacheFd = dir, fd
	return fd, base, nil
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// invalidate drops the kept directory: it may have been removed.
func (rs *restorer) invalidate() {
	if rs.cacheFd >= 0 {
		unix.Close(rs.cacheFd)
	}
	rs.cacheFd, rs.cacheDir = -1, ""
}

// lstatAt reports what exists at base in fd; ok false when nothing does.
func lstatAt(fd int, base string) (unix.Stat_t, bool, error) {
	var st unix.Stat_t
	err := unix.Fstatat(fd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	return st, err == nil, err
}

// remove deletes what is at rel (a whole tree for a directory).
func (rs *restorer) remove(rel string, fd int, base string, st unix.Stat_t) error {
	if st.Mode&sIFMT == sIFDIR {
		rs.invalidate()
		if err := rs.root.RemoveAll(rel); err != nil {
			return fmt.Errorf("removing %s: %w", rel, err)
		}
		return nil
	}
	if err := unix.Unlinkat(fd, base, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing %s: %w", rel, err)
	}
	return nil
}

func (rs *restorer) list(e hdrEntry) {
	if rs.req.List == nil {
		return
	}
	switch {
	case e.deleted:
		fmt.Fprintf(rs.req.List, "%s (deleted)\n", e.path)
	case e.hardlink != "":
		fmt.Fprintf(rs.req.List, "%s link to %s\n", e.path, e.hardlink)
	case isLnk(e.mode):
		fmt.Fprintf(rs.req.List, "%s -> %s\n", e.path, e.lname)
	default:
		fmt.Fprintln(rs.req.List, e.path)
	}
}

// dataLen is how many payload bytes follow for e.
func (rs *restorer) dataLen(e hdrEntry) int64 {
	switch {
	case e.deleted || !isReg(e.mode) || e.hardlink != "":
		return 0
	case e.newLevel && e.hasDeltas:
		return e.deltaBytes
	}
	return e.size
}

func (rs *restorer) apply(e hdrEntry, data *bufio.Reader, idx *bufio.Reader) error {
	if rs.req.DryRun {
		rs.list(e)
		if e.hasDeltas {
			if _, err := idx.Discard(int(e.nidx) * 4); err != nil {
				return fmt.Errorf("reading scratch indices: %w", err)
			}
		}
		n := rs.dataLen(e)
		if got, err := io.CopyN(io.Discard, data, n); err != nil {
			return corruptf("%s: %d of %d bytes: %w", e.path, got, n, noEOF(err))
		}
		rs.stats.Bytes += n
		return nil
	}
	fd, base, err := rs.parent(e.path)
	if errors.Is(err, errMissingParent) {
		if e.deleted {
			return nil // already gone with its directory
		}
		return fmt.Errorf("%w: %s: its directory is missing, or is not a directory in the target", ErrUnsafePath, e.path)
	}
	if err != nil {
		return err
	}
	st, exists, err := lstatAt(fd, base)
	if err != nil {
		return fmt.Errorf("checking %s: %w", e.path, err)
	}
	if err := rs.touch(e.path, fd); err != nil {
		return err
	}
	if e.deleted {
		if exists {
			rs.stats.Deleted++
			return rs.remove(e.path, fd, base, st)
		}
		return nil
	}
	typ := st.Mode & sIFMT
	patch := isReg(e.mode) && e.newLevel && e.hasDeltas
	if rs.st != nil && rs.st.isTemp(base) {
		return corruptf("%s: the archive names a temporary of this restore", e.path)
	}
	switch {
	case patch:
		if !exists || typ != sIFREG {
			return corruptf("%s: the archive changes blocks of a file the target does not have (a level is missing or was restored out of order)", e.path)
		}
	case exists && isDir(e.mode) && typ == sIFDIR:
		// kept; its attributes are set at the end
	case exists && rs.st != nil && !isDir(e.mode):
		// staged: the new name replaces this one once verified
	case exists:
		if err := rs.remove(e.path, fd, base, st); err != nil {
			return err
		}
		if typ == sIFDIR {
			// removing a directory drops the kept descriptor
			if fd, base, err = rs.parent(e.path); err != nil {
				return err
			}
		}
	}

	if isDir(e.mode) {
		rs.stats.Dirs++
		if !exists || typ != sIFDIR {
			if err := unix.Mkdirat(fd, base, 0o700); err != nil {
				return fmt.Errorf("creating %s: %w", e.path, err)
			}
		}
		rs.dirs = append(rs.dirs, e)
		return nil
	}
	if patch && st.Nlink > 1 {
		if err := rs.unshare(e.path, fd, base); err != nil {
			return err
		}
	}
	// name is where e is made: base, or a temporary beside it to be
	// renamed (or, for a patch, applied) once the level is verified.
	name := base
	if rs.st != nil {
		_, name = rs.st.add(e)
	}
	switch e.mode & sIFMT {
	case sIFREG:
		rs.stats.Files++
		switch {
		case e.hardlink != "":
			rs.stats.Links++
			if err := rs.link(e, fd, name); err != nil {
				return err
			}
		case patch && rs.st != nil:
			return rs.spool(e, fd, name, data, idx)
		case patch:
			return rs.patch(e, fd, base, data, idx)
		default:
			return rs.create(e, fd, name, data)
		}
	case sIFLNK:
		rs.stats.Links++
		if err := unix.Symlinkat(e.lname, fd, name); err != nil {
			return fmt.Errorf("creating link %s: %w", e.path, err)
		}
	default:
		if err := unix.Mknodat(fd, name, e.mode, int(e.rdev)); err != nil {
			return fmt.Errorf("creating %s: %w", e.path, err)
		}
	}
	return rs.setAttrsAt(e, fd, name)
}

// link makes e a further name of the regular file it names.
func (rs *restorer) link(e hdrEntry, fd int, base string) error {
	// the target's directory may differ: open it without the cache
	tdir, tbase := path.Split(e.hardlink)
	if rs.st != nil {
		if seq, ok := rs.st.links[e.hardlink]; ok {
			tbase = rs.st.temp(seq) // made in this level, not yet in place
		}
	}
	tfd := rs.rootFd
	if tdir != "" {
		saveDir, saveFd := rs.cacheDir, rs.cacheFd
		rs.cacheFd = -1 // keep ours open while parent walks
		var err error
		tfd, _, err = rs.parent(e.hardlink)
		if err != nil {
			rs.cacheDir, rs.cacheFd = saveDir, saveFd
			return corruptf("%s: hard link target %s: %w", e.path, e.hardlink, err)
		}
		defer func() {
			unix.Close(tfd)
			rs.cacheDir, rs.cacheFd = saveDir, saveFd
		}()
	}
	st, ok, err := lstatAt(tfd, tbase)
	if err != nil || !ok || st.Mode&sIFMT != sIFREG {
		return corruptf("%s: hard link target %s is not a regular file in the target", e.path, e.hardlink)
	}
	if err := unix.Linkat(tfd, tbase, fd, base, 0); err != nil {
		return fmt.Errorf("linking %s to %s: %w", e.path, e.hardlink, err)
	}
	return nil
}

// readData fills p from the payload; a short stream is archive damage.
func readData(data *bufio.Reader, p []byte, what string) error {
	if _, err := io.ReadFull(data, p); err != nil {
		return corruptf("%s: payload ends early: %w", what, noEOF(err))
	}
	return nil
}

// create writes a whole file, leaving holes where blocks are all zeros.
func (rs *restorer) create(e hdrEntry, fd int, base string, data *bufio.Reader) error {
	nfd, err := unix.Openat(fd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", e.path, err)
	}
	f := os.NewFile(uintptr(nfd), e.path)
	defer f.Close()
	ok := false
	defer func() {
		if !ok {
			rs.incomplete(e, fd, base)
		}
	}()
	for off := int64(0); off < e.size; {
		n := min(int64(len(rs.buf)), e.size-off)
		p := rs.buf[:n]
		if err := readData(data, p, e.path); err != nil {
			return err
		}
		for k := 0; k < len(p); {
			end := min(k+4096, len(p))
			if !allZero(p[k:end], rs.zero) {
				// extend over the following non-zero pieces
				for end < len(p) && !allZero(p[end:min(end+4096, len(p))], rs.zero) {
					end = min(end+4096, len(p))
				}
				if _, err := f.WriteAt(p[k:end], off+int64(k)); err != nil {
					return fmt.Errorf("writing %s: %w", e.path, err)
				}
			}
			k = end
		}
		off += n
		rs.stats.Bytes += n
	}
	if err := f.Truncate(e.size); err != nil {
		return fmt.Errorf("writing %s: %w", e.path, err)
	}
	ok = true
	return rs.setAttrsAt(e, fd, base)
}

// incomplete removes a file that a failure left incomplete: made in
// place, it is named as not restored; a staged temporary is removed with
// the others, and named with them.
func (rs *restorer) incomplete(e hdrEntry, fd int, name string) {
	if err := unix.Unlinkat(fd, name, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		rs.stats.Warnings = append(rs.stats.Warnings, fmt.Sprintf("%s: cannot remove the incomplete file: %v", e.path, err))
	}
	if rs.st == nil {
		rs.partial = e.path
	}
}

// unshare gives base its own copy of its content before a patch: in the
// target it may still share an inode with a name the source has since
// separated (a replaced file), which must not see the patch. If the names
// are still linked in the source, this level links them again.
func (rs *restorer) unshare(rel string, fd int, base string) error {
	const tmp = ".freezer-rsync-unshare"
	if err := unix.Unlinkat(fd, tmp, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unsharing %s: %w", rel, err)
	}
	sfd, err := unix.Openat(fd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("unsharing %s: %w", rel, err)
	}
	src := os.NewFile(uintptr(sfd), rel)
	defer src.Close()
	dfd, err := unix.Openat(fd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("unsharing %s: %w", rel, err)
	}
	dst := os.NewFile(uintptr(dfd), tmp)
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(fd, tmp, fd, base)
	}
	if err != nil {
		unix.Unlinkat(fd, tmp, 0)
		return fmt.Errorf("unsharing %s: %w", rel, err)
	}
	return nil
}

// patch writes the changed blocks of an existing file in place and cuts
// it to size. The blocks come from an authenticated stream; a failure
// part way leaves the file neither version, and it is removed.
func (rs *restorer) patch(e hdrEntry, fd int, base string, data, idx *bufio.Reader) error {
	nfd, err := unix.Openat(fd, base, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", e.path, err)
	}
	f := os.NewFile(uintptr(nfd), e.path)
	defer f.Close()
	wrote := false
	err = rs.readBlocks(e, data, idx, func(i int64, p []byte) error {
		wrote = true
		if _, err := f.WriteAt(p, i*rs.bs); err != nil {
			return fmt.Errorf("writing %s: %w", e.path, err)
		}
		return nil
	})
	if err == nil {
		if err = f.Truncate(e.size); err != nil {
			err = fmt.Errorf("writing %s: %w", e.path, err)
		}
	}
	if err != nil {
		if wrote {
			rs.incomplete(e, fd, base)
		} else {
			rs.partial = e.path // unchanged, but not this level's version
		}
		return err
	}
	return rs.setAttrsAt(e, fd, base)
}

// readBlocks reads e's changed blocks from the payload, checking each
// index and their total against the header, and hands each to put.
func (rs *restorer) readBlocks(e hdrEntry, data, idx *bufio.Reader, put func(i int64, p []byte) error) error {
	blocks := (e.size + rs.bs - 1) / rs.bs
	var sum int64
	var b4 [4]byte
	for range e.nidx {
		if _, err := io.ReadFull(idx, b4[:]); err != nil {
			return fmt.Errorf("reading scratch indices: %w", err)
		}
		i := int64(binary.BigEndian.Uint32(b4[:]))
		if i >= blocks {
			return corruptf("%s: block %d is past the end of a %d-byte file", e.path, i, e.size)
		}
		n := min(rs.bs, e.size-i*rs.bs)
		sum += n
		if sum > e.deltaBytes {
			return corruptf("%s: blocks add up to more than the %d bytes the header says", e.path, e.deltaBytes)
		}
		p := rs.buf[:n]
		if err := readData(data, p, e.path); err != nil {
			return err
		}
		if err := put(i, p); err != nil {
			return err
		}
		rs.stats.Bytes += n
	}
	if sum != e.deltaBytes {
		return corruptf("%s: blocks add up to %d bytes, the header says %d", e.path, sum, e.deltaBytes)
	}
	return nil
}

func (rs *restorer) setAttrs(e hdrEntry) error {
	fd, base, err := rs.parent(e.path)
	if err != nil {
		return fmt.Errorf("setting attributes of %s: %w", e.path, err)
	}
	return rs.setAttrsAt(e, fd, base)
}

// setAttrsAt applies owner, mode and times to base in fd, never following
// a link: owner by name, else by number; mode except on links (Linux has
// none); times to the nanosecond.
func (rs *restorer) setAttrsAt(e hdrEntry, fd int, base string) error {
	uid, gid := rs.owner(e.uname, e.uid, rs.uids, lookupUID), rs.owner(e.gname, e.gid, rs.gids, lookupGID)
	if uid >= 0 || gid >= 0 {
		if err := unix.Fchownat(fd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if !errors.Is(err, unix.EPERM) {
				return fmt.Errorf("setting the owner of %s: %w", e.path, err)
			}
			if !rs.chownWarn {
				rs.chownWarn = true
				rs.stats.Warnings = append(rs.stats.Warnings, fmt.Sprintf("cannot set owners (first: %s): %v", e.path, err))
			}
		}
	}
	if !isLnk(e.mode) {
		if err := unix.Fchmodat(fd, base, e.mode&0o7777, 0); err != nil {
			return fmt.Errorf("setting the mode of %s: %w", e.path, err)
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(e.atimeNs), unix.NsecToTimespec(e.mtimeNs)}
	if err := unix.UtimesNanoAt(fd, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting the times of %s: %w", e.path, err)
	}
	return nil
}

func lookupUID(name string) int {
	if u, err := user.Lookup(name); err == nil {
		if v, err := strconv.Atoi(u.Uid); err == nil {
			return v
		}
	}
	return -1
}

func lookupGID(name string) int {
	if g, err := user.LookupGroup(name); err == nil {
		if v, err := strconv.Atoi(g.Gid); err == nil {
			return v
		}
	}
	return -1
}

// owner resolves a name on this host, falling back to the number stored
// with it; -1 leaves it unchanged.
func (rs *restorer) owner(name string, id int64, cache map[string]int, lookup func(string) int) int {
	if name != "" {
		v, ok := cache[name]
		if !ok {
			v = lookup(name)
			cache[name] = v
		}
		if v >= 0 {
			return v
		}
	}
	if id >= 0 && id <= math.MaxInt32 {
		return int(id)
	}
	return -1
}

// touch records the times of rel's directory before its first change.
func (rs *restorer) touch(rel string, fd int) error {
	dir := path.Dir(rel)
	if _, ok := rs.touched[dir]; ok {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("checking the directory of %s: %w", rel, err)
	}
	if rs.touched == nil {
		rs.touched = map[string][2]unix.Timespec{}
	}
	rs.touched[dir] = [2]unix.Timespec{st.Atim, st.Mtim}
	return nil
}

// untouch puts back the times of the directories this level changed but
// does not list; listed ones get theirs from the header afterwards.
func (rs *restorer) untouch() error {
	listed := map[string]bool{}
	for _, d := range rs.dirs {
		listed[d.path] = true
	}
	for dir, ts := range rs.touched {
		if listed[dir] {
			continue
		}
		if dir == "." {
			// the target itself is not in any level
			if err := unix.UtimesNanoAt(rs.rootFd, ".", ts[:], 0); err != nil {
				return fmt.Errorf("setting the times of %s: %w", rs.req.Dir, err)
			}
			continue
		}
		fd, base, err := rs.parent(dir)
		if errors.Is(err, errMissingParent) {
			continue // removed later in the level
		}
		if err != nil {
			return err
		}
		if st, ok, err := lstatAt(fd, base); err != nil || !ok || st.Mode&sIFMT != sIFDIR {
			continue // replaced later in the level (a staged file put in place)
		}
		if err := unix.UtimesNanoAt(fd, base, ts[:], unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("setting the times of %s: %w", dir, err)
		}
	}
	return nil
}
