package tar

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/internal/readerr"
)

// Restore applies one archive under req.Dir as
// "gnutar --extract --incremental --overwrite" would, confined to req.Dir.
func (e *Engine) Restore(ctx context.Context, req backup.RestoreRequest, in io.Reader) (backup.Stats, error) {
	mr := newMemberReader(inputRecorder{readerr.New(in)}, e.bufSize)
	var (
		stats backup.Stats
		err   error
	)
	if req.DryRun {
		stats, err = list(ctx, req, mr)
	} else {
		stats, err = e.extract(ctx, req, mr)
	}
	if err != nil {
		return stats, fmt.Errorf("tar restore: %w", err)
	}
	return stats, nil
}

// restorer is the state of one extraction.
type restorer struct {
	ctx  context.Context
	in   inputRecorder // to classify archive reader errors
	root *os.Root
	dirs map[string]*os.Root // verified directory handles by relative path
	// made is the directory mkdir made last, until dirHandle opens it: it
	// is known to be a real directory, so it needs no Lstat. Members of a
	// directory follow it, so this catches nearly every one.
	made     string
	delayed  []dirAttr
	buf      []byte
	chown    bool
	uids     map[string]int
	gids     map[string]int
	fin      *finisher // nil: regular finishes every file itself
	temp     string    // temporary directory of a rename cycle ('X')
	tempSeq  int
	stats    backup.Stats
	progress func(backup.Stats)

	// verify is RestoreRequest.Verify: when set, names are staged (see
	// stage.go) and put in place only once it returns nil.
	verify   func() error
	stageTok string
	stageSeq int
	staged   []stagedName
	stagedAt map[string]int // final path → index in staged
	// partial is a file written in place, cut short and removed.
	partial string

	// paths is RestoreRequest.Paths; skippedDirs the directories not
	// selected by it, made only when a member below them is.
	paths       []string
	skippedDirs map[string]*tar.Header
}

// dirAttr is applied to a directory once everything below it is written.
type dirAttr struct {
	rel          string
	mode         fs.FileMode
	atime, mtime time.Time
	uid, gid     int
}

func (e *Engine) extract(ctx context.Context, req backup.RestoreRequest, mr *memberReader) (backup.Stats, error) {
	root, err := os.OpenRoot(req.Dir)
	if err != nil {
		return backup.Stats{}, fmt.Errorf("opening restore directory: %w", err)
	}
	r := &restorer{
		ctx:      ctx,
		in:       mr.in,
		root:     root,
		dirs:     map[string]*os.Root{},
		buf:      make([]byte, e.bufSize),
		chown:    os.Geteuid() == 0,
		uids:     map[string]int{},
		gids:     map[string]int{},
		progress: req.Progress,
		verify:   req.Verify,
		paths:    req.Paths,
	}
	if r.verify != nil {
		r.stageTok = newStageToken()
		r.stagedAt = map[string]int{}
	}
	defer r.close()
	if e.workers > 1 && fileTimesOnFD {
		r.fin = newFinisher(e.workers, e.finishFile)
		defer r.fin.stop() // on a failure; a success stops it below
	}
	src := r.newMemberSource(mr)
	defer src.stop() // before the finisher's: the read-ahead takes its buffers
	// fail stops the workers first: a file they still write must not be
	// named as restored, nor its temporary be left.
	fail := func(err error, unread bool) (backup.Stats, error) {
		src.stop()
		if r.fin != nil {
			r.fin.stop()
		}
		return r.stats, r.failure(err, unread)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(err, true)
		}
		m, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err, true)
		}
		if err := r.apply(m); err != nil {
			// The stop in fail ends the read-ahead where it waits: told
			// the member is done, it would first read through the rest of
			// it, however large.
			return fail(err, true)
		}
		src.done(m)
		if r.progress != nil {
			r.progress(r.stats)
		}
	}
	if r.fin != nil {
		// Directory attributes last, once every file is complete.
		ws, err := r.fin.stop()
		for _, w := range ws {
			r.stats.Warnings = addWarning(r.stats.Warnings, w)
		}
		if err != nil {
			return fail(err, false)
		}
	}
	if r.verify != nil {
		if err := r.verify(); err != nil {
			return fail(err, false)
		}
		if err := r.commit(); err != nil {
			return r.stats, err
		}
	}
	if err := r.finishDirs(); err != nil {
		return r.stats, err
	}
	return r.stats, nil
}

func (r *restorer) close() {
	for _, h := range r.dirs {
		h.Close()
	}
	r.root.Close()
}

func (r *restorer) warn(format string, args ...any) {
	r.stats.Warnings = addWarning(r.stats.Warnings, fmt.Sprintf(format, args...))
}

func (r *restorer) apply(m entry) error {
	hdr := m.hdr
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if len(r.paths) > 0 {
		isDir := hdr.Typeflag == typeDumpDir || hdr.Typeflag == tar.TypeDir
		if !r.selected(rel) {
			if isDir {
				r.skipDir(rel, hdr)
			}
			if m.body != nil && r.fin != nil && finishable(hdr) {
				r.fin.giveBack(m.body) // read ahead for nothing
			}
			return nil // archive/tar skips its data
		}
		if err := r.makeParents(rel); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case typeDumpDir:
		return r.dumpdir(rel, m)
	case tar.TypeDir:
		// In the POSIX format, GNU tar puts the dumpdir of an incremental
		// archive into a PAX record of the directory member.
		if d, ok := hdr.PAXRecords["GNU.dumpdir"]; ok {
			return r.applyDumpdir(rel, hdr, []byte(d))
		}
		_, err := r.mkdir(rel, hdr)
		return err
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		return r.regular(rel, m)
	case tar.TypeLink:
		return r.hardlink(rel, hdr)
	case tar.TypeSymlink:
		return r.symlink(rel, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		r.warn("%s: %s skipped", hdr.Name, map[byte]string{tar.TypeChar: "character device", tar.TypeBlock: "block device", tar.TypeFifo: "fifo"}[hdr.Typeflag])
		return nil
	case 'V': // volume label
		return nil
	case 'M':
		return fmt.Errorf("%s: multi-volume archives are not supported", hdr.Name)
	default:
		r.warn("%s: unknown member type %q skipped", hdr.Name, hdr.Typeflag)
		return nil
	}
}

func (r *restorer) owner(hdr *tar.Header) (uid, gid int) {
	uid, gid = hdr.Uid, hdr.Gid
	if hdr.Uname != "" {
		id, ok := r.uids[hdr.Uname]
		if !ok {
			id = -1
			if u, err := user.Lookup(hdr.Uname); err == nil {
				if v, err := strconv.Atoi(u.Uid); err == nil {
					id = v
				}
			}
			r.uids[hdr.Uname] = id
		}
		if id >= 0 {
			uid = id
		}
	}
	if hdr.Gname != "" {
		id, ok := r.gids[hdr.Gname]
		if !ok {
			id = -1
			if g, err := user.LookupGroup(hdr.Gname); err == nil {
				if v, err := strconv.Atoi(g.Gid); err == nil {
					id = v
				}
			}
			r.gids[hdr.Gname] = id
		}
		if id >= 0 {
			gid = id
		}
	}
	return uid, gid
}

func accessTime(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

// mkdir makes sure rel is a real directory and schedules its attributes.
// It reports whether the directory existed before.
func (r *restorer) mkdir(rel string, hdr *tar.Header) (bool, error) {
	existed := true
	if rel != "" {
		parent, base := splitRel(rel)
		p, err := r.dirHandle(parent, true)
		if err != nil {
			return false, err
		}
		// Most directories are new: make it first, and look at what is
		// there only when something is.
		if err := p.Mkdir(base, 0o700); err == nil {
			existed = false
			r.made = rel
		} else if !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("creating directory %s: %w", rel, err)
		} else if existed, err = r.dirInPlaceOf(p, rel, base); err != nil {
			return false, err
		}
	}
	r.delay(rel, hdr)
	return existed, nil
}

// delay schedules directory rel's attributes for finishDirs.
func (r *restorer) delay(rel string, hdr *tar.Header) {
	uid, gid := r.owner(hdr)
	r.delayed = append(r.delayed, dirAttr{rel: rel, mode: fileMode(hdr.Mode), atime: accessTime(hdr), mtime: hdr.ModTime, uid: uid, gid: gid})
	r.stats.Dirs++
}

// dirInPlaceOf makes base (path rel) in p a directory we can write
// below, when something is already there: a directory is kept, anything
// else replaced. It reports whether a directory was there.
func (r *restorer) dirInPlaceOf(p *os.Root, rel, base string) (bool, error) {
	fi, err := p.Lstat(base)
	switch {
	case err == nil && fi.IsDir():
		if !r.chown && fi.Mode().Perm()&0o700 != 0o700 {
			// Let us write below it; its mode is set at the end.
			if err := p.Chmod(base, fi.Mode().Perm()|0o700); err != nil {
				return true, fmt.Errorf("%s: %w", rel, err)
			}
		}
		return true, nil
	case err == nil:
		if err := r.clear(p, rel, base); err != nil {
			return false, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("%s: %w", rel, err)
	}
	// Replaced, or gone since the caller's Mkdir: make it.
	if err := p.Mkdir(base, 0o700); err != nil {
		return false, fmt.Errorf("creating directory %s: %w", rel, err)
	}
	r.made = rel
	return false, nil
}

// finishDirs sets directory attributes, children before parents, once
// their contents are in place. With a finisher, the directories of one
// depth are done in parallel (see finishDirsParallel).
func (r *restorer) finishDirs() error {
	defer func() { r.delayed = r.delayed[:0] }()
	if r.fin != nil && len(r.delayed) >= parallelDirsMin {
		return r.finishDirsParallel()
	}
	for i := len(r.delayed) - 1; i >= 0; i-- {
		d := r.delayed[i]
		h, name := r.root, "."
		if d.rel != "" {
			parent, base := splitRel(d.rel)
			var err error
			if h, err = r.dirHandle(parent, false); err != nil {
				continue // removed or replaced later in the same archive
			}
			name = base
		}
		if err := r.setDirAttr(h, name, d, r.warn); err != nil {
			return err
		}
	}
	return nil
}

// setDirAttr sets d's owner, mode and times on name in h, unless name is
// no longer a directory.
func (r *restorer) setDirAttr(h *os.Root, name string, d dirAttr, warn func(string, ...any)) error {
	if d.rel != "" {
		fi, err := h.Lstat(name)
		if err != nil || !fi.IsDir() {
			return nil // replaced later in the same archive
		}
	}
	if r.chown {
		if err := h.Lchown(name, d.uid, d.gid); err != nil {
			warn("%s: cannot change owner: %v", d.rel, err)
		}
	}
	if err := h.Chmod(name, d.mode); err != nil {
		return fmt.Errorf("setting mode of %s: %w", d.rel, err)
	}
	if err := h.Chtimes(name, d.atime, d.mtime); err != nil {
		return fmt.Errorf("setting times of %s: %w", d.rel, err)
	}
	return nil
}
