package tar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/internal/readerr"
)

// maxDumpdirSize bounds the in-memory listing of one directory member. A
// listing is held as it came, about 1 byte per byte (see parseDumpdir), so
// this is also about the memory it takes. It is not lower because GNU tar
// has no limit and a listing is one entry per file of the directory (its
// name plus two bytes): this allows some ten million files in one
// directory, which real trees (mail spools, caches) come near.
const maxDumpdirSize = 256 << 20

// maxOpenDirs bounds the cache of open directory handles.
const maxOpenDirs = 256

// corruptError marks err as backup.ErrCorrupt without changing its message.
type corruptError struct{ err error }

func (e *corruptError) Error() string   { return e.err.Error() }
func (e *corruptError) Unwrap() []error { return []error{backup.ErrCorrupt, e.err} }

func corrupt(err error) error { return &corruptError{err: err} }

func corruptf(format string, args ...any) error { return corrupt(fmt.Errorf(format, args...)) }

// inputRecorder remembers the first error of the stream the archive is
// read from. archive/tar reports a bad archive and a failing input alike
// (a cut input is an io.ErrUnexpectedEOF, some sparse-map errors are not
// even exported), so an archive reader error counts as corruption only
// when the input itself did not fail.
type inputRecorder struct{ *readerr.Reader }

// archiveErr classifies err, returned by the archive reader.
func (in inputRecorder) archiveErr(err error) error {
	if in.Err() != nil {
		return err
	}
	return corrupt(err)
}

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

// memberReader reads the members of a stream of one or more archives, as
// "gnutar --ignore-zeros" (which upstream passes) does: zero blocks after
// an archive's end are skipped and a following archive is read too. It
// reads the stream to its end, so that codecs below can verify their
// trailers and authentication tags.
type memberReader struct {
	in inputRecorder
	br *bufio.Reader
	zt *zeroTracker
	tr *tar.Reader // reads the data of the member next returned
}

func newMemberReader(in inputRecorder, bufSize int) *memberReader {
	m := &memberReader{in: in, br: bufio.NewReaderSize(in, bufSize)}
	m.start()
	return m
}

func (m *memberReader) start() {
	m.zt = &zeroTracker{r: m.br}
	m.tr = tar.NewReader(m.zt)
}

// next returns the next member, or io.EOF at the end of the stream.
func (m *memberReader) next() (*tar.Header, error) {
	for {
		hdr, err := m.tr.Next()
		if err != io.EOF {
			if err != nil {
				return nil, fmt.Errorf("reading archive: %w", m.in.archiveErr(err))
			}
			return hdr, nil
		}
		if !m.zt.sawEnd() {
			return nil, m.in.archiveErr(errors.New("archive is truncated: no end-of-archive marker"))
		}
		more, err := skipZeroBlocks(m.br)
		if err != nil {
			return nil, err
		}
		if !more {
			return nil, io.EOF
		}
		m.start()
	}
}

// skipZeroBlocks consumes zero blocks and reports whether a non-zero
// block (another archive) follows.
func skipZeroBlocks(br *bufio.Reader) (bool, error) {
	for {
		b, err := br.Peek(blockSize)
		if len(b) == blockSize {
			if !bytes.Equal(b, zeroGranule[:blockSize]) {
				return true, nil
			}
			br.Discard(blockSize)
			continue
		}
		if err != nil && err != io.EOF {
			return false, fmt.Errorf("reading after the end of the archive: %w", err)
		}
		if !bytes.Equal(b, zeroGranule[:len(b)]) {
			return false, corruptf("garbage after the end of the archive")
		}
		return false, nil
	}
}

// zeroTracker remembers how many zero bytes the archive reader consumed
// last, to tell an archive ending with its end-of-archive blocks from one
// cut at a member boundary (which archive/tar reports as a plain EOF).
type zeroTracker struct {
	r     io.Reader
	zeros int64
}

func (z *zeroTracker) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if n > 0 {
		i := n
		for i > 0 && p[i-1] == 0 {
			i--
		}
		if i == 0 {
			z.zeros += int64(n)
		} else {
			z.zeros = int64(n - i)
		}
	}
	return n, err
}

func (z *zeroTracker) sawEnd() bool { return z.zeros >= blockSize }

func list(ctx context.Context, req backup.RestoreRequest, mr *memberReader) (backup.Stats, error) {
	var stats backup.Stats
	w := req.List
	if w == nil {
		w = io.Discard
	}
	bw := bufio.NewWriter(w)
	for {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		hdr, err := mr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return stats, err
		}
		tc, perm := typeChar(hdr.Typeflag), fileMode(hdr.Mode).Perm().String()[1:]
		owner := hdr.Uname
		if owner == "" {
			owner = strconv.Itoa(hdr.Uid)
		}
		group := hdr.Gname
		if group == "" {
			group = strconv.Itoa(hdr.Gid)
		}
		fmt.Fprintf(bw, "%c%s %s/%s %d %s %s", tc, perm, owner, group, hdr.Size,
			hdr.ModTime.UTC().Format("2006-01-02 15:04"), quoteName(hdr.Name))
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			fmt.Fprintf(bw, " -> %s", quoteName(hdr.Linkname))
			stats.Links++
		case tar.TypeLink:
			fmt.Fprintf(bw, " link to %s", quoteName(hdr.Linkname))
			stats.Links++
		case tar.TypeDir, typeDumpDir:
			stats.Dirs++
		case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
			stats.Files++
			stats.Bytes += hdr.Size
		}
		bw.WriteByte('\n')
		if req.Progress != nil {
			req.Progress(stats)
		}
	}
	if err := bw.Flush(); err != nil {
		return stats, fmt.Errorf("writing listing: %w", err)
	}
	return stats, nil
}

func typeChar(t byte) byte {
	switch t {
	case tar.TypeDir, typeDumpDir:
		return 'd'
	case tar.TypeSymlink:
		return 'l'
	case tar.TypeLink:
		return 'h'
	case tar.TypeChar:
		return 'c'
	case tar.TypeBlock:
		return 'b'
	case tar.TypeFifo:
		return 'p'
	}
	return '-'
}

// quoteName prints names as they are unless they would garble the
// listing (control characters or invalid UTF-8).
func quoteName(s string) string {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return strconv.Quote(s)
		}
	}
	return s
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
	}
	defer r.close()
	if e.workers > 1 && fileTimesOnFD {
		r.fin = newFinisher(e.workers, e.finishFile)
		defer r.fin.stop() // on a failure; a success stops it below
	}
	src := r.newMemberSource(mr)
	defer src.stop() // before the finisher's: the read-ahead takes its buffers
	for {
		if err := ctx.Err(); err != nil {
			return r.stats, err
		}
		m, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return r.stats, err
		}
		if err := r.apply(m); err != nil {
			// The deferred stop ends the read-ahead where it waits: told
			// the member is done, it would first read through the rest of
			// it, however large.
			return r.stats, err
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

// cleanName turns a member name into a path relative to the target,
// "" being the target itself, or rejects it.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty member name: %w", backup.ErrUnsafePath)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("member name %q contains a NUL byte: %w", name, backup.ErrUnsafePath)
	}
	if name[0] == '/' || (runtime.GOOS == "windows" && (name[0] == '\\' || len(name) > 1 && name[1] == ':')) {
		return "", fmt.Errorf("member name %q is absolute: %w", name, backup.ErrUnsafePath)
	}
	var b strings.Builder
	for part := range strings.SplitSeq(name, "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("member name %q contains \"..\": %w", name, backup.ErrUnsafePath)
		}
		if runtime.GOOS == "windows" && strings.ContainsAny(part, `\:`) {
			return "", fmt.Errorf("member name %q is not portable to this system: %w", name, backup.ErrUnsafePath)
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(part)
	}
	return b.String(), nil
}

func splitRel(rel string) (parent, base string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// dirHandle returns a handle on directory rel after checking that every
// component is a real directory, never a symbolic link. With create,
// missing components are made.
func (r *restorer) dirHandle(rel string, create bool) (*os.Root, error) {
	if rel == "" {
		return r.root, nil
	}
	if h, ok := r.dirs[rel]; ok {
		return h, nil
	}
	parent, base := splitRel(rel)
	p, err := r.dirHandle(parent, create)
	if err != nil {
		return nil, err
	}
	var fi fs.FileInfo
	if rel == r.made {
		r.made = "" // made by us a moment ago: a directory
	} else {
		fi, err = p.Lstat(base)
	}
	switch {
	case fi == nil && err == nil: // made by us: nothing to check
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s: refusing to go through a symbolic link: %w", rel, backup.ErrUnsafePath)
	case err == nil && !fi.IsDir():
		return nil, fmt.Errorf("%s: not a directory", rel)
	case err != nil && errors.Is(err, fs.ErrNotExist) && create:
		if err := p.Mkdir(base, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("creating directory %s: %w", rel, err)
		}
	case err != nil:
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	h, err := p.OpenRoot(base)
	if err != nil {
		return nil, fmt.Errorf("opening directory %s: %w", rel, err)
	}
	if len(r.dirs) >= maxOpenDirs {
		for k, d := range r.dirs {
			d.Close()
			delete(r.dirs, k)
		}
	}
	r.dirs[rel] = h
	return h, nil
}

// forget closes the handles of rel and everything below it, after it was
// removed or renamed.
func (r *restorer) forget(rel string) {
	if r.made == rel || strings.HasPrefix(r.made, rel+"/") {
		r.made = ""
	}
	for k, d := range r.dirs {
		if k == rel || strings.HasPrefix(k, rel+"/") {
			d.Close()
			delete(r.dirs, k)
		}
	}
}

// clear removes whatever is at base in directory p (path rel).
func (r *restorer) clear(p *os.Root, rel, base string) error {
	fi, err := p.Lstat(base)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%s: %w", rel, err)
	}
	if fi.IsDir() {
		err = p.RemoveAll(base)
		r.forget(rel)
	} else {
		err = p.Remove(base)
	}
	if err != nil {
		return fmt.Errorf("replacing %s: %w", rel, err)
	}
	return nil
}

func (r *restorer) apply(m entry) error {
	hdr := m.hdr
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
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
	f, err := p.OpenFile(base, flags, 0o600)
	if err != nil && errors.Is(err, fs.ErrExist) {
		if err := r.clear(p, rel, base); err != nil {
			return err
		}
		f, err = p.OpenFile(base, flags, 0o600)
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", rel, err)
	}
	if r.fin != nil && finishable(hdr) {
		return r.finishLater(f, rel, m)
	}
	if _, err := r.copy(f, tr, isSparse(hdr)); err != nil {
		f.Close()
		return err
	}
	timesSet, err := closeWithAttrs(r.fileJob(f, rel, hdr, nil), r.warn)
	if err != nil {
		return err
	}
	if !timesSet {
		if err := p.Chtimes(base, accessTime(hdr), hdr.ModTime); err != nil {
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
	tp, tbase := splitRel(target)
	th, err := r.dirHandle(tp, false)
	if err != nil {
		return fmt.Errorf("hard link %s to %s: %w", rel, target, err)
	}
	tfi, err := th.Lstat(tbase)
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

func (r *restorer) symlink(rel string, hdr *tar.Header) error {
	if rel == "" {
		return fmt.Errorf("member %q would replace the restore directory: %w", hdr.Name, backup.ErrUnsafePath)
	}
	parent, base := splitRel(rel)
	p, err := r.dirHandle(parent, true)
	if err != nil {
		return err
	}
	err = p.Symlink(hdr.Linkname, base)
	if err != nil && errors.Is(err, fs.ErrExist) {
		if err := r.clear(p, rel, base); err != nil {
			return err
		}
		err = p.Symlink(hdr.Linkname, base)
	}
	if err != nil {
		return fmt.Errorf("creating symbolic link %s: %w", rel, err)
	}
	if r.chown {
		uid, gid := r.owner(hdr)
		if err := p.Lchown(base, uid, gid); err != nil {
			r.warn("%s: cannot change owner: %v", rel, err)
		}
	}
	if err := setSymlinkTimes(p, base, accessTime(hdr), hdr.ModTime); err != nil {
		r.warn("%s: cannot set times: %v", rel, err)
	}
	r.stats.Links++
	return nil
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
