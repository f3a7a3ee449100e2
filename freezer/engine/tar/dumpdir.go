package tar

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"freezer.dev/freezer/freezer/backup"
)

// maxDumpdirSize bounds the in-memory listing of one directory member. A
// listing is held as it came, about 1 byte per byte (see parseDumpdir), so
// this is also about the memory it takes. It is not lower because GNU tar
// has no limit and a listing is one entry per file of the directory (its
// name plus two bytes): this allows some ten million files in one
// directory, which real trees (mail spools, caches) come near.
const maxDumpdirSize = 256 << 20

// errTooManyRenames refuses a listing with more rename records than a
// backup of this engine writes (maxRenames): applying renames costs time
// quadratic in their number. GNU tar has no such limit, so this is an
// unsupported archive rather than a corrupt one.
var errTooManyRenames = fmt.Errorf("more than %d directory renames in one listing, the most this engine writes and restores", maxRenames)

// dumpEntry is a rename record of a dumpdir ('R', 'T' or 'X').
type dumpEntry struct {
	flag byte
	name string
}

// parseDumpdir checks a directory listing and returns its entries up to
// the terminating empty entry, as they are, and its rename records. The
// listing may be huge (one entry per file of the directory) and is made of
// tiny entries: expanding every entry into a Go value cost about 24 times
// its size, so the entries stay in the listing's own bytes, walked again
// by purge, and only the rename records, which a backup writes a few of,
// are copied out.
func parseDumpdir(b []byte) (listing []byte, renames []dumpEntry, err error) {
	rest := b
	expect := byte(0)
	hasTemp := false
	nRenames := 0
	for len(rest) > 0 && rest[0] != 0 {
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return nil, nil, errors.New("malformed dumpdir: unterminated entry")
		}
		flag, name := rest[0], rest[1:i]
		rest = rest[i+1:]
		if expect != 0 && flag != expect {
			return nil, nil, fmt.Errorf("malformed dumpdir: expected %q but found %q", expect, flag)
		}
		switch flag {
		case 'X':
			if hasTemp {
				return nil, nil, errors.New("malformed dumpdir: 'X' duplicated")
			}
			hasTemp = true
		case 'R':
			// An 'X' needs an empty 'R' before the next one, so this also
			// bounds the 'X' records.
			if nRenames++; nRenames > maxRenames {
				return nil, nil, errTooManyRenames
			}
			if len(name) == 0 {
				if !hasTemp {
					return nil, nil, errors.New("malformed dumpdir: empty name in 'R'")
				}
				hasTemp = false
			}
			expect = 'T'
		case 'T':
			if expect != 'T' {
				return nil, nil, errors.New("malformed dumpdir: 'T' not preceded by 'R'")
			}
			if len(name) == 0 && !hasTemp {
				return nil, nil, errors.New("malformed dumpdir: empty name in 'T'")
			}
			expect = 0
		default:
			continue
		}
		renames = append(renames, dumpEntry{flag: flag, name: string(name)})
	}
	if expect != 0 {
		return nil, nil, errors.New("malformed dumpdir: 'R' without 'T'")
	}
	return b[:len(b)-len(rest)], renames, nil
}

// dumpdir applies a GNU directory member: renames, then deletion of what
// the listing no longer holds, then the directory itself.
func (r *restorer) dumpdir(rel string, m entry) error {
	hdr := m.hdr
	if m.body != nil {
		return r.applyDumpdir(rel, hdr, m.body)
	}
	if hdr.Size > maxDumpdirSize {
		return corruptf("%s: directory listing of %d bytes is too large", hdr.Name, hdr.Size)
	}
	// Exactly the member's size: io.ReadAll would grow its buffer to up
	// to twice that.
	content := make([]byte, hdr.Size)
	if _, err := io.ReadFull(m.tr, content); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("reading archive: %w", r.in.archiveErr(err))
	}
	return r.applyDumpdir(rel, hdr, content)
}

func (r *restorer) applyDumpdir(rel string, hdr *tar.Header, content []byte) error {
	listing, renames, err := parseDumpdir(content)
	if errors.Is(err, errTooManyRenames) {
		return fmt.Errorf("%s: %w", hdr.Name, err)
	}
	if err != nil {
		return corruptf("%s: %w", hdr.Name, err)
	}
	isDir := rel == ""
	if !isDir {
		parent, base := splitRel(rel)
		p, err := r.dirHandle(parent, true)
		if err != nil {
			return err
		}
		// Most directories are new: make it first. A new directory has
		// nothing to rename or purge; only a name already there is
		// looked at.
		if err := p.Mkdir(base, 0o700); err == nil {
			r.made = rel
			r.delay(rel, hdr)
			return nil
		} else if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating directory %s: %w", rel, err)
		}
		fi, err := p.Lstat(base)
		isDir = err == nil && fi.IsDir()
	}
	if isDir {
		if err := r.renames(renames); err != nil {
			return err
		}
		if err := r.purge(rel, listing); err != nil {
			return err
		}
	}
	_, err = r.mkdir(rel, hdr)
	return err
}

func (r *restorer) renames(ents []dumpEntry) error {
	var pairs [][2]string
	for i := 0; i < len(ents); i++ {
		switch ents[i].flag {
		case 'X':
			dir, err := cleanName(ents[i].name)
			if err != nil {
				return err
			}
			h, err := r.dirHandle(dir, false)
			if err != nil {
				return fmt.Errorf("rename temporary directory: %w", err)
			}
			for {
				r.tempSeq++
				name := fmt.Sprintf(".freezer-tar-rename.%d", r.tempSeq)
				err := h.Mkdir(name, 0o700)
				if err == nil {
					r.temp = joinRel(dir, name)
					break
				}
				if !errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("creating rename temporary directory: %w", err)
				}
			}
		case 'R':
			src, dst := ents[i].name, ents[i+1].name
			i++
			var err error
			if src == "" {
				src = r.temp
			} else if src, err = cleanName(src); err != nil {
				return err
			}
			if dst == "" {
				dst = r.temp
			} else if dst, err = cleanName(dst); err != nil {
				return err
			}
			pairs = append(pairs, [2]string{src, dst})
		}
	}
	return r.applyRenames(pairs)
}

// applyRenames performs the renames of a dumpdir. GNU tar writes them in
// an order of its own, naming a source by where a later rename puts its
// parent; it then fails to restore its own archive. So a rename waits
// while its source is missing, or while its destination's parent is
// missing and another pending rename may create it; the others go first.
// What can never become ready is attempted in order and fails clearly.
func (r *restorer) applyRenames(pairs [][2]string) error {
	var done [][2]string
	for len(pairs) > 0 {
		// A source may also be named as it was before renames already
		// done here moved one of its parents.
		for i := range pairs {
			if !r.isDir(pairs[i][0]) {
				if alt := movedBy(pairs[i][0], done); r.isDir(alt) {
					pairs[i][0] = alt
				}
			}
		}
		next := -1
		for i, p := range pairs {
			if r.renameReady(p, pairs) {
				next = i
				break
			}
		}
		if next < 0 {
			next = 0
		}
		if err := r.rename(pairs[next][0], pairs[next][1]); err != nil {
			return err
		}
		done = append(done, pairs[next])
		pairs = append(pairs[:next], pairs[next+1:]...)
	}
	return nil
}

// movedBy returns where path is after the renames done, in order.
func movedBy(path string, done [][2]string) string {
	for _, d := range done {
		if path == d[0] || strings.HasPrefix(path, d[0]+"/") {
			path = d[1] + path[len(d[0]):]
		}
	}
	return path
}

// isDir reports whether rel is a real directory reached through real
// directories.
func (r *restorer) isDir(rel string) bool {
	if rel == "" {
		return true
	}
	parent, base := splitRel(rel)
	h, err := r.dirHandle(parent, false)
	if err != nil {
		return false
	}
	fi, err := h.Lstat(base)
	return err == nil && fi.IsDir()
}

func (r *restorer) renameReady(p [2]string, pending [][2]string) bool {
	if !r.isDir(p[0]) {
		return false
	}
	dp, _ := splitRel(p[1])
	if _, err := r.dirHandle(dp, false); err == nil {
		return true
	}
	for _, q := range pending {
		if q != p && (q[1] == dp || strings.HasPrefix(dp, q[1]+"/")) {
			return false // another rename makes the destination's parent
		}
	}
	return true
}

func (r *restorer) rename(src, dst string) error {
	if src == "" || dst == "" {
		return fmt.Errorf("cannot rename the restore directory itself: %w", backup.ErrUnsafePath)
	}
	if src == dst {
		return nil
	}
	sp, sbase := splitRel(src)
	h, err := r.dirHandle(sp, false)
	if err != nil {
		return fmt.Errorf("renaming %s to %s: %w", src, dst, err)
	}
	fi, err := h.Lstat(sbase)
	if err != nil {
		return fmt.Errorf("renaming %s to %s: %w", src, dst, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("renaming %s to %s: source is not a directory", src, dst)
	}
	dp, dbase := splitRel(dst)
	dh, err := r.dirHandle(dp, true)
	if err != nil {
		return fmt.Errorf("renaming %s to %s: %w", src, dst, err)
	}
	// Whatever is at the destination is stale: after the rename the
	// destination is the renamed directory, and its own dumpdir then
	// prunes it. GNU tar fails here (a file, or a non-empty directory, in
	// the way), e.g. when a new directory reused the inode of a deleted
	// one and was taken for a rename.
	if err := r.clear(dh, dst, dbase); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", src, dst, err)
	}
	r.forget(src)
	r.forget(dst)
	if err := r.root.Rename(src, dst); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", src, dst, err)
	}
	r.moveStaged(src, dst)
	return nil
}

// purge deletes the entries of directory rel that the dumpdir listing
// does not list, or lists with another type, as GNU tar's
// purge_directory. The listing may be far larger than the directory (a
// hostile one has no other limit than maxDumpdirSize), so it is only
// scanned, and the lookup table is the directory's own names.
func (r *restorer) purge(rel string, listing []byte) error {
	h, err := r.dirHandle(rel, false)
	if err != nil {
		return err
	}
	d, err := h.Open(".")
	if err != nil {
		return fmt.Errorf("listing %s: %w", rel, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("listing %s: %w", rel, err)
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	flags := make([]byte, len(names)) // as listed; 0 = not listed
	for p := listing; len(p) > 0; {
		i := bytes.IndexByte(p, 0) // parseDumpdir checked every entry ends
		flag, name := p[0], p[1:i]
		p = p[i+1:]
		if flag != 'Y' && flag != 'N' && flag != 'D' {
			continue
		}
		// string(name) in a comparison does not allocate.
		j := sort.Search(len(names), func(k int) bool { return names[k] >= string(name) })
		if j < len(names) && names[j] == string(name) {
			flags[j] = flag // the last listing of a name counts
		}
	}
	for j, name := range names {
		if r.isStaged(name) {
			continue // put in place, or removed, at the end of the level
		}
		fi, err := h.Lstat(name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				r.warn("%s: not purging: %v", joinRel(rel, name), err)
			}
			continue
		}
		flag := flags[j]
		if flag != 0 && !(flag == 'D' && !fi.IsDir()) && !(flag == 'Y' && fi.IsDir()) {
			continue
		}
		if fi.IsDir() {
			err = h.RemoveAll(name)
			r.forget(joinRel(rel, name))
		} else {
			err = h.Remove(name)
		}
		if err != nil {
			return fmt.Errorf("deleting %s: %w", joinRel(rel, name), err)
		}
		r.stats.Deleted++
	}
	return nil
}
