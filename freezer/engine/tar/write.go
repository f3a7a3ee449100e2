package tar

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"freezer.dev/freezer/freezer/backup"
)

func (r *restorer) regular(rel string, m entry) error {
	hdr, tr := m.hdr, m.tr
	if rel == "" {
		return fmt.Errorf("member %q would replace the restore directory: %w", hdr.Name, backup.ErrUnsafePath)
	}
	parent, base := splitRel(rel)
	p, err := r.dirHandle(parent, true)
	if err != nil {
		return err
	}
	const flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL | createFlags
	name := base // where the content is written
	var f *os.File
	if r.verify != nil {
		f, name, err = r.createTemp(p, flags)
		if err == nil {
			r.stage(parent, name, base)
		}
	} else {
		f, err = p.OpenFile(base, flags, 0o600)
		if err != nil && errors.Is(err, fs.ErrExist) {
			if err := r.clear(p, rel, base); err != nil {
				return err
			}
			f, err = p.OpenFile(base, flags, 0o600)
		}
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", rel, err)
	}
	if r.fin != nil && finishable(hdr) {
		return r.finishLater(f, rel, m)
	}
	if _, err := r.copy(f, tr, isSparse(hdr)); err != nil {
		f.Close()
		if r.verify == nil {
			r.removePartial(p, rel, base)
		}
		return err
	}
	timesSet, err := closeWithAttrs(r.fileJob(f, rel, hdr, nil), r.warn)
	if err != nil {
		return err
	}
	if !timesSet {
		if err := p.Chtimes(name, accessTime(hdr), hdr.ModTime); err != nil {
			return fmt.Errorf("setting times of %s: %w", rel, err)
		}
	}
	r.stats.Files++
	return nil
}

// finishLater queues a small file, its content read ahead, for the
// finisher, which closes it.
func (r *restorer) finishLater(f *os.File, rel string, m entry) error {
	hdr := m.hdr
	if err := r.fin.failed(); err != nil {
		f.Close()
		r.fin.giveBack(m.body)
		return err
	}
	r.fin.queue(r.fileJob(f, rel, hdr, m.body))
	r.stats.Files++
	r.stats.Bytes += hdr.Size
	return nil
}

// fileJob describes the file f of member hdr, its content data, for
// closeWithAttrs.
func (r *restorer) fileJob(f *os.File, rel string, hdr *tar.Header, data []byte) fileJob {
	j := fileJob{f: f, rel: rel, data: data, chown: r.chown, mode: fileMode(hdr.Mode), atime: accessTime(hdr), mtime: hdr.ModTime}
	if r.chown {
		j.uid, j.gid = r.owner(hdr)
	}
	return j
}

// holeGranule is the size of the zero runs turned into holes: a page,
// the unit file systems allocate in.
const holeGranule = 4096

var zeroGranule [holeGranule]byte

// writeSparse writes p at the current offset of f, seeking over zero
// granules instead of writing them. It reports whether p ended in a hole.
func writeSparse(f *os.File, p []byte) (bool, error) {
	hole := false
	for len(p) > 0 {
		// Extend a run of granules of the same kind, then write or skip it.
		n := min(len(p), holeGranule)
		zero := bytes.Equal(p[:n], zeroGranule[:n])
		for n < len(p) {
			m := min(len(p)-n, holeGranule)
			if bytes.Equal(p[n:n+m], zeroGranule[:m]) != zero {
				break
			}
			n += m
		}
		var err error
		if zero {
			_, err = f.Seek(int64(n), io.SeekCurrent)
		} else {
			_, err = f.Write(p[:n])
		}
		if err != nil {
			return false, err
		}
		hole = zero
		p = p[n:]
	}
	return hole, nil
}

func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// copy moves a member's data to f with the restorer's buffer; io.Copy
// would take os.File's ReadFrom path and a small buffer of its own.
//
// For a sparse member, archive/tar hands out the holes as zeros; runs of
// zeros are skipped with a seek instead, so the file is sparse again and a
// huge logical size costs no disk space.
func (r *restorer) copy(f *os.File, tr *tar.Reader, sparse bool) (int64, error) {
	var total int64
	holeAtEnd := false // a trailing hole needs the size set explicitly
	for {
		n, err := tr.Read(r.buf)
		if n > 0 {
			chunk := r.buf[:n]
			if sparse {
				var werr error
				if holeAtEnd, werr = writeSparse(f, chunk); werr != nil {
					return total, fmt.Errorf("writing %s: %w", f.Name(), werr)
				}
			} else if _, werr := f.Write(chunk); werr != nil {
				return total, fmt.Errorf("writing %s: %w", f.Name(), werr)
			}
			total += int64(n)
			r.stats.Bytes += int64(n)
			if r.progress != nil && n >= 256<<10 {
				r.progress(r.stats)
			}
		}
		if err == io.EOF {
			if holeAtEnd {
				if terr := f.Truncate(total); terr != nil {
					return total, fmt.Errorf("writing %s: %w", f.Name(), terr)
				}
			}
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("reading archive: %w", r.in.archiveErr(err))
		}
		if err := r.ctx.Err(); err != nil {
			return total, err
		}
	}
}

func (r *restorer) hardlink(rel string, hdr *tar.Header) error {
	if rel == "" {
		return fmt.Errorf("member %q would replace the restore directory: %w", hdr.Name, backup.ErrUnsafePath)
	}
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hard link %s: %w", rel, err)
	}
	if target == "" {
		return fmt.Errorf("hard link %s points to the restore directory: %w", rel, backup.ErrUnsafePath)
	}
	at := target // where the target's content is now
	if sp, ok := r.stagedPath(target); ok {
		at = sp
	}
	tp, tbase := splitRel(at)
	th, err := r.dirHandle(tp, false)
	var tfi fs.FileInfo
	if err == nil {
		tfi, err = th.Lstat(tbase)
	}
	if err != nil && len(r.paths) > 0 && !r.selected(target) {
		r.warn("%s: not restored: it is a hard link to %s, which --restore-path does not select", rel, target)
		return nil
	}
	if err != nil {
		return fmt.Errorf("hard link %s to %s: %w", rel, target, err)
	}
	if tfi.IsDir() {
		return fmt.Errorf("hard link %s to %s: target is a directory", rel, target)
	}
	parent, base := splitRel(rel)
	p, err := r.dirHandle(parent, true)
	if err != nil {
		return err
	}
	if r.verify != nil {
		return r.stageHardlink(p, rel, target, tfi)
	}
	if fi, err := p.Lstat(base); err == nil {
		if os.SameFile(fi, tfi) {
			r.stats.Links++
			return nil
		}
		if err := r.clear(p, rel, base); err != nil {
			return err
		}
	}
	if err := r.root.Link(target, rel); err != nil {
		return fmt.Errorf("hard link %s to %s: %w", rel, target, err)
	}
	r.stats.Links++
	return nil
}

// stageHardlink makes hard link rel to target under a temporary name. A
// target staged in this level is linked where it is staged, so both names
// come into place with the same content, or neither.
func (r *restorer) stageHardlink(p *os.Root, rel, target string, tfi fs.FileInfo) error {
	parent, base := splitRel(rel)
	from, staged := r.stagedPath(target)
	if !staged {
		if fi, err := p.Lstat(base); err == nil && os.SameFile(fi, tfi) {
			r.stats.Links++
			return nil
		}
		from = target
	}
	for {
		temp := r.tempName()
		err := r.root.Link(from, joinRel(parent, temp))
		if err == nil {
			r.stage(parent, temp, base)
			r.stats.Links++
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("hard link %s to %s: %w", rel, target, err)
		}
	}
}

// createTemp creates a new file under a temporary name in p.
func (r *restorer) createTemp(p *os.Root, flags int) (*os.File, string, error) {
	for {
		temp := r.tempName()
		f, err := p.OpenFile(temp, flags, 0o600)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return f, temp, err
		}
	}
}

func (r *restorer) symlink(rel string, hdr *tar.Header) error {
	if rel == "" {
		return fmt.Errorf("member %q would replace the restore directory: %w", hdr.Name, backup.ErrUnsafePath)
	}
	parent, base := splitRel(rel)
	p, err := r.dirHandle(parent, true)
	if err != nil {
		return err
	}
	name := base
	if r.verify != nil {
		for {
			name = r.tempName()
			if err = p.Symlink(hdr.Linkname, name); !errors.Is(err, fs.ErrExist) {
				break
			}
		}
		if err == nil {
			r.stage(parent, name, base)
		}
	} else {
		err = p.Symlink(hdr.Linkname, base)
		if err != nil && errors.Is(err, fs.ErrExist) {
			if err := r.clear(p, rel, base); err != nil {
				return err
			}
			err = p.Symlink(hdr.Linkname, base)
		}
	}
	if err != nil {
		return fmt.Errorf("creating symbolic link %s: %w", rel, err)
	}
	if r.chown {
		uid, gid := r.owner(hdr)
		if err := p.Lchown(name, uid, gid); err != nil {
			r.warn("%s: cannot change owner: %v", rel, err)
		}
	}
	if err := setSymlinkTimes(p, name, accessTime(hdr), hdr.ModTime); err != nil {
		r.warn("%s: cannot set times: %v", rel, err)
	}
	r.stats.Links++
	return nil
}
