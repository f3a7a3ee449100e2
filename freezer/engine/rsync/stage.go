//go:build linux

package rsync

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"freezer.dev/freezer/freezer/backup"
)

// Staging (RestoreRequest.Verify set): the stream is checked only after
// its last byte, so no content read from it reaches a name of the target
// before then. A whole file, a symbolic link, a device or a further hard
// link is made under a temporary name in its own directory and renamed
// into place once Verify passed; a name it replaces stays until then.
// The changed blocks of a file patched in place are spooled to a
// temporary file beside it and written into it only once Verify passed:
// the file keeps its previous content until then, and the extra space is
// the level's changed blocks, not a copy of the file. Directories and
// deletions are applied as they are read.
//
// What is staged is listed in a scratch file (the entry, so a patched
// file's attributes can be set after its blocks), read back to commit or
// discard: memory does not grow with the number of names. Only the staged
// first names of hard-linked files are kept in memory, for the further
// names that link to them.

// stagePrefix starts every temporary name; the rest is a token random per
// restore and a sequence number.
const stagePrefix = ".freezer-rsync-stage."

// maxNamed bounds the paths a NotRestoredError carries; the rest are
// counted.
const maxNamed = 1000

type stager struct {
	tok   string
	seq   int64
	f     *os.File
	w     *mpWriter
	links map[string]int64 // staged first names of hard-linked files → seq
}

func (rs *restorer) newStager() error {
	f, err := rs.e.tempFile()
	if err != nil {
		return err
	}
	var b [6]byte
	rand.Read(b[:])
	rs.st = &stager{tok: hex.EncodeToString(b[:]), f: f, w: newMPWriter(f), links: map[string]int64{}}
	return nil
}

// isStageName reports whether base has the form of a temporary name,
// whatever its restore's token.
func isStageName(base string) bool {
	rest, ok := strings.CutPrefix(base, stagePrefix)
	if !ok {
		return false
	}
	tok, seq, ok := strings.Cut(rest, ".")
	if !ok || len(tok) != 12 || seq == "" {
		return false
	}
	if _, err := hex.DecodeString(tok); err != nil {
		return false
	}
	_, err := strconv.ParseUint(seq, 10, 63)
	return err == nil
}

// removeStaleStages removes from the restore directory the temporaries an
// earlier restore left when it was killed before putting them in place
// (a SIGKILL leaves no chance to clean up): a rerun must leave exactly the
// backup's tree. Directories are never staged, so only other entries go.
func removeStaleStages(root *os.Root) error {
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("looking for temporaries of an interrupted restore: %w", err)
		}
		if d.IsDir() || !isStageName(d.Name()) {
			return nil
		}
		if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s, left by an interrupted restore: %w", p, err)
		}
		return nil
	})
}

func (s *stager) temp(seq int64) string {
	return stagePrefix + s.tok + "." + strconv.FormatInt(seq, 10)
}

// isTemp reports whether base is one of this restore's temporary names,
// which no entry may name.
func (s *stager) isTemp(base string) bool {
	return strings.HasPrefix(base, stagePrefix+s.tok+".")
}

// add records that e is staged as temp(seq) in its directory. It is
// recorded before the temporary exists, so that a failure while making
// it still removes it.
func (s *stager) add(e hdrEntry) (seq int64, name string) {
	s.seq++
	s.w.int(s.seq)
	writeEntry(s.w, e)
	if isReg(e.mode) && e.hardlink == "" && e.nlink > 1 && !isPatch(e) {
		s.links[e.path] = s.seq
	}
	return s.seq, s.temp(s.seq)
}

// isPatch reports whether e changes blocks of a file the target holds.
func isPatch(e hdrEntry) bool {
	return isReg(e.mode) && e.newLevel && e.hasDeltas && e.hardlink == ""
}

// each calls fn for every staged entry, in archive order, and empties
// the list.
func (s *stager) each(fn func(seq int64, e hdrEntry) error) error {
	if err := s.w.flush(); err != nil {
		return fmt.Errorf("writing scratch file: %w", err)
	}
	n := s.seq
	defer func() {
		s.seq = 0
		s.f.Truncate(0)
		s.f.Seek(0, io.SeekStart)
		s.w = newMPWriter(s.f)
		clear(s.links)
	}()
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	m := newMPReader(s.f, 0)
	for range n {
		seq, err := m.readInt()
		if err != nil {
			return fmt.Errorf("reading scratch file: %w", err)
		}
		e, err := readEntry(m)
		if err != nil {
			return err
		}
		if err := fn(seq, e); err != nil {
			return err
		}
	}
	return nil
}

// named collects the paths of a NotRestoredError, up to maxNamed.
type named struct {
	paths   []string
	omitted int
}

func (n *named) add(p string) {
	if len(n.paths) < maxNamed {
		n.paths = append(n.paths, p)
	} else {
		n.omitted++
	}
}

// commit puts every staged name in place, in archive order. What cannot
// be put in place is removed and named in the error.
func (rs *restorer) commit() error {
	var failed named
	var first error
	err := rs.st.each(func(seq int64, e hdrEntry) error {
		temp := rs.st.temp(seq)
		fd, base, err := rs.parent(e.path)
		if err == nil {
			if isPatch(e) {
				err = rs.applySpool(e, fd, base, temp)
			} else {
				err = rs.place(e, fd, base, temp)
			}
		}
		if err != nil {
			failed.add(e.path)
			if first == nil {
				first = err
			}
			if fd >= 0 {
				unix.Unlinkat(fd, temp, 0)
			}
		}
		return nil
	})
	if err == nil {
		err = first
	}
	if err != nil {
		return &backup.NotRestoredError{Paths: failed.paths, Omitted: failed.omitted, Err: err}
	}
	return nil
}

// place renames temp to base; what is in the way, a directory included,
// is replaced, as an unstaged restore replaces it.
func (rs *restorer) place(e hdrEntry, fd int, base, temp string) error {
	// rename(2) does nothing when both names are links of one file
	// (a hard link the target already has): the temporary would stay.
	var ts, bs unix.Stat_t
	if unix.Fstatat(fd, temp, &ts, unix.AT_SYMLINK_NOFOLLOW) == nil &&
		unix.Fstatat(fd, base, &bs, unix.AT_SYMLINK_NOFOLLOW) == nil && ts.Dev == bs.Dev && ts.Ino == bs.Ino {
		return unix.Unlinkat(fd, temp, 0)
	}
	err := unix.Renameat(fd, temp, fd, base)
	if err == nil {
		return nil
	}
	if st, ok, lerr := lstatAt(fd, base); lerr == nil && ok && st.Mode&sIFMT == sIFDIR {
		if err := rs.remove(e.path, fd, base, st); err != nil {
			return err
		}
		if fd, base, err = rs.parent(e.path); err != nil {
			return err
		}
		err = unix.Renameat(fd, temp, fd, base)
	}
	if err != nil {
		return fmt.Errorf("putting %s in place: %w", e.path, err)
	}
	return nil
}

// spool writes e's changed blocks, checked against its header, to a new
// file temp in fd: each is its index (4 bytes, big endian) and its bytes.
func (rs *restorer) spool(e hdrEntry, fd int, temp string, data, idx *bufio.Reader) error {
	nfd, err := unix.Openat(fd, temp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("staging %s: %w", e.path, err)
	}
	f := os.NewFile(uintptr(nfd), e.path)
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	err = rs.readBlocks(e, data, idx, func(i int64, p []byte) error {
		var b4 [4]byte
		binary.BigEndian.PutUint32(b4[:], uint32(i))
		w.Write(b4[:])
		_, err := w.Write(p)
		return err
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("staging %s: %w", e.path, err)
	}
	return nil
}

// applySpool writes the spooled blocks of e into base, cuts it to size,
// sets its attributes and removes the spool. A file left half written is
// removed: its blocks were verified, but it is neither version.
func (rs *restorer) applySpool(e hdrEntry, fd int, base, temp string) error {
	sfd, err := unix.Openat(fd, temp, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("reading the staged blocks of %s: %w", e.path, err)
	}
	sf := os.NewFile(uintptr(sfd), temp)
	defer sf.Close()
	nfd, err := unix.Openat(fd, base, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", e.path, err)
	}
	f := os.NewFile(uintptr(nfd), e.path)
	err = func() error {
		defer f.Close()
		r := bufio.NewReaderSize(sf, 256<<10)
		var b4 [4]byte
		for range e.nidx {
			if _, err := io.ReadFull(r, b4[:]); err != nil {
				return fmt.Errorf("reading the staged blocks of %s: %w", e.path, noEOF(err))
			}
			i := int64(binary.BigEndian.Uint32(b4[:]))
			if i*rs.bs >= e.size {
				return fmt.Errorf("the staged blocks of %s: block %d is past its end", e.path, i)
			}
			p := rs.buf[:min(rs.bs, e.size-i*rs.bs)]
			if _, err := io.ReadFull(r, p); err != nil {
				return fmt.Errorf("reading the staged blocks of %s: %w", e.path, noEOF(err))
			}
			if _, err := f.WriteAt(p, i*rs.bs); err != nil {
				return fmt.Errorf("writing %s: %w", e.path, err)
			}
		}
		if err := f.Truncate(e.size); err != nil {
			return fmt.Errorf("writing %s: %w", e.path, err)
		}
		return nil
	}()
	if err != nil {
		unix.Unlinkat(fd, base, 0)
		return err
	}
	if err := unix.Unlinkat(fd, temp, 0); err != nil {
		return fmt.Errorf("removing the staged blocks of %s: %w", e.path, err)
	}
	return rs.setAttrsAt(e, fd, base)
}

// discard removes every staged temporary and names what they were for.
func (rs *restorer) discard(n *named) {
	err := rs.st.each(func(seq int64, e hdrEntry) error {
		n.add(e.path)
		fd, _, err := rs.parent(e.path)
		if err != nil {
			return nil // its directory went, and the temporary with it
		}
		if err := unix.Unlinkat(fd, rs.st.temp(seq), 0); err != nil && !errors.Is(err, unix.ENOENT) {
			rs.stats.Warnings = append(rs.stats.Warnings, fmt.Sprintf("%s: cannot remove temporary %s: %v", e.path, rs.st.temp(seq), err))
		}
		return nil
	})
	if err != nil {
		rs.stats.Warnings = append(rs.stats.Warnings, fmt.Sprintf("cannot list the staged names to remove them: %v", err))
	}
}

// failure turns a failure of the restore into the error Restore returns:
// staged temporaries are removed, and what they were for, and a file left
// incomplete in place (and removed), are named.
func (rs *restorer) failure(err error) error {
	if rs.req.DryRun {
		return err
	}
	var n named
	if rs.st != nil {
		rs.discard(&n)
	}
	if rs.partial != "" {
		n.add(rs.partial)
	}
	if len(n.paths) == 0 && rs.readAll {
		return err
	}
	return &backup.NotRestoredError{Paths: n.paths, Omitted: n.omitted, Unread: !rs.readAll, Err: err}
}
