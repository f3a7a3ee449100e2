package tar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// What to save below a directory, as GNU tar's procdir decides.
type children int

const (
	changedChildren children = iota // entries new to the dumpdir or modified since the threshold
	allChildren                     // every entry (a directory new to the snapshot)
	noChildren                      // nothing (another file system)
)

type devIno struct{ dev, ino uint64 }

// backupRun is the state of one Backup call.
type backupRun struct {
	ctx       context.Context
	out       *blockWriter
	snap      *snapshotWriter
	prev      *snapshot // nil for a level 0
	newer     time.Time // entries older than this are unchanged (with prev)
	excl      *backup.Excluder
	derefSoft bool
	derefHard bool
	links     map[devIno]string // first archived name of multiply-linked files
	onPath    map[devIno]bool   // directories being walked, to stop symlink loops
	users     map[int64]string
	groups    map[int64]string
	stats     backup.Stats
	progress  func(backup.Stats)
	hdr       header
	dumpdir   []byte
	// renamedFrom maps a directory's archive name to the name it had in
	// the previous snapshot, for the directories renamed since.
	renamedFrom map[string]string
	renames     []byte // R/T dumpdir records of those renames
}

// Backup writes the archive of req.Path to out and the new snapshot to
// req.State. On error, what was written to out and req.State is unusable.
func (e *Engine) Backup(ctx context.Context, req backup.BackupRequest, out io.Writer) (backup.Stats, error) {
	if req.State == nil {
		return backup.Stats{}, errors.New("tar backup: no State writer for the snapshot")
	}
	b := &backupRun{
		ctx:      ctx,
		links:    map[devIno]string{},
		onPath:   map[devIno]bool{},
		users:    map[int64]string{},
		groups:   map[int64]string{},
		progress: req.Progress,
	}
	switch req.Dereference {
	case "", "none":
	case "soft":
		b.derefSoft = true
	case "hard":
		b.derefHard = true
	case "all":
		b.derefSoft, b.derefHard = true, true
	default:
		return backup.Stats{}, fmt.Errorf("tar backup: unknown dereference mode %q (want soft, hard or all)", req.Dereference)
	}
	var err error
	if b.excl, err = backup.NewExcluder(req.Exclude); err != nil {
		return backup.Stats{}, fmt.Errorf("tar backup: %w", err)
	}
	start := e.now()
	if req.PrevState != nil {
		if b.prev, err = readSnapshot(req.PrevState); err != nil {
			return backup.Stats{}, fmt.Errorf("tar backup: previous state: %w", err)
		}
		if b.prev != nil {
			b.newer = b.prev.start
		}
	}
	b.out = newBlockWriter(out, e.bufSize)
	b.snap = newSnapshotWriter(req.State, start.Add(-snapshotMargin))

	fi, err := os.Stat(req.Path)
	if err != nil {
		return b.stats, fmt.Errorf("tar backup: %w", err)
	}
	if fi.IsDir() {
		m := metaOf(fi)
		b.onPath[devIno{m.dev, m.ino}] = true
		if b.prev != nil {
			b.findRenames(req.Path, m)
		}
		err = b.dir(req.Path, ".", m, false, m.dev)
	} else {
		if !b.derefSoft {
			if fi, err = os.Lstat(req.Path); err != nil {
				return b.stats, fmt.Errorf("tar backup: %w", err)
			}
		}
		m := metaOf(fi)
		if b.prev == nil || !b.olderThanThreshold(m) {
			err = b.entry(req.Path, filepath.Base(req.Path), m)
		}
	}
	if err == nil {
		err = b.out.finish()
	}
	if err == nil {
		err = b.snap.flush()
	}
	b.report()
	if err != nil {
		return b.stats, fmt.Errorf("tar backup of %s: %w", req.Path, err)
	}
	return b.stats, nil
}

func (b *backupRun) olderThanThreshold(m fileMeta) bool {
	// As GNU tar in listed-incremental mode: an entry is unchanged only
	// when both its data (mtime) and its inode (ctime: mode, owner, links)
	// are older than the previous backup.
	return m.mtime.Before(b.newer) && m.ctime.Before(b.newer)
}

func (b *backupRun) warn(format string, args ...any) {
	b.stats.Warnings = addWarning(b.stats.Warnings, fmt.Sprintf(format, args...))
}

// maxWarnings bounds the warnings kept in Stats: a tree of a million
// sockets must not cost a million strings.
const maxWarnings = 1000

func addWarning(ws []string, w string) []string {
	switch {
	case len(ws) < maxWarnings:
		return append(ws, w)
	case len(ws) == maxWarnings:
		return append(ws, "further warnings omitted")
	}
	return ws
}

// addBytes counts file content as it is read, so progress moves during
// large files too.
func (b *backupRun) addBytes(n int64) {
	b.stats.Bytes += n
	if b.progress != nil && n >= 256<<10 {
		b.progress(b.stats)
	}
}

func (b *backupRun) report() {
	if b.progress != nil {
		b.progress(b.stats)
	}
}

func (b *backupRun) stat(path string) (fileMeta, error) {
	return statMeta(path, b.derefSoft)
}

type dirEntry struct {
	name string
	flag byte
	meta fileMeta
}

// dir archives one directory: its dumpdir member, its snapshot record, the
// entries to save, then its sub-directories.
func (b *backupRun) dir(fsPath, arcName string, m fileMeta, forceAll bool, parentDev uint64) error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	mode := allChildren
	var oldNames []string
	var oldFlags []byte
	if b.prev != nil {
		// With --no-check-device a directory is the same one when its
		// inode is; a different inode under the same name is a new tree.
		if rec := b.prev.dirs[b.prevName(arcName)]; rec != nil && rec.ino == m.ino {
			mode = changedChildren
			oldNames, oldFlags = rec.entries()
		}
	}
	// Below a new directory everything is new, except a directory that was
	// renamed there: its previous listing still tells what changed.
	if forceAll && mode != changedChildren {
		mode = allChildren
	}
	if m.dev != parentDev {
		b.warn("%s: directory is on a different filesystem; not dumped", arcName)
		mode = noChildren
	}

	var ents []dirEntry
	if mode != noChildren {
		names, err := readDirNames(fsPath)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				b.warn("%s: directory removed before we read it", arcName)
				return nil
			}
			return fmt.Errorf("reading directory %s: %w", arcName, err)
		}
		sort.Strings(names)
		ents = make([]dirEntry, 0, len(names))
		for _, name := range names {
			full := arcName + "/" + name
			if b.excl.Match(full) {
				ents = append(ents, dirEntry{name: name, flag: 'N'})
				continue
			}
			em, err := b.stat(filepath.Join(fsPath, name))
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					b.warn("%s: file removed before we read it", full)
					continue // gone: the restore should not keep an old copy
				}
				b.warn("%s: cannot stat: %v", full, err)
				ents = append(ents, dirEntry{name: name, flag: 'N'})
				continue
			}
			e := dirEntry{name: name, meta: em}
			switch {
			case em.mode.IsDir():
				e.flag = 'D'
			case em.mode.Type()&^fs.ModeSymlink != 0:
				b.warn("%s: %s skipped", full, kindOf(em.mode))
				continue
			case em.dev != m.dev:
				e.flag = 'N'
			case mode == allChildren:
				e.flag = 'Y'
			default:
				i := sort.SearchStrings(oldNames, name)
				switch {
				case i == len(oldNames) || oldNames[i] != name:
					e.flag = 'Y' // new in this directory (created, moved or renamed here)
				case oldFlags[i] == 'D':
					e.flag = 'Y' // was a directory, is not any more
				case b.olderThanThreshold(em):
					e.flag = 'N'
				default:
					e.flag = 'Y'
				}
			}
			ents = append(ents, e)
		}
	}

	dd := b.dumpdir[:0]
	for _, e := range ents {
		dd = append(dd, e.flag)
		dd = append(dd, e.name...)
		dd = append(dd, 0)
	}
	dd = append(dd, 0)
	b.dumpdir = dd

	member := dd
	if arcName == "." && len(b.renames) > 0 {
		// Renames go into the first member, so that a restore moves the
		// directories before any purge could delete them at their old
		// place; the snapshot keeps the plain listing.
		member = append(append(dd[:len(dd)-1:len(dd)-1], b.renames...), 0)
	}
	h := b.fill(arcName+"/", m)
	h.typeflag = typeDumpDir
	h.size = int64(len(member))
	if err := b.out.writeHeader(h); err != nil {
		return err
	}
	if err := b.out.writeData(member); err != nil {
		return err
	}
	b.snap.dir(arcName, m.mtime, m.dev, m.ino, dd)
	b.stats.Dirs++

	for i := range ents {
		e := &ents[i]
		if e.flag != 'Y' {
			continue
		}
		if err := b.entry(filepath.Join(fsPath, e.name), arcName+"/"+e.name, e.meta); err != nil {
			return err
		}
	}
	for i := range ents {
		e := &ents[i]
		if e.flag != 'D' {
			continue
		}
		key := devIno{e.meta.dev, e.meta.ino}
		if b.onPath[key] {
			b.warn("%s/%s: directory loop (symbolic link to an ancestor); not dumped", arcName, e.name)
			continue
		}
		b.onPath[key] = true
		err := b.dir(filepath.Join(fsPath, e.name), arcName+"/"+e.name, e.meta, mode == allChildren, m.dev)
		delete(b.onPath, key)
		if err != nil {
			return err
		}
	}
	return nil
}

// open opens a regular file for reading; with soft dereference the path
// may be a symlink to it.
func (b *backupRun) open(path string) (io.ReadCloser, error) {
	if b.derefSoft {
		return os.Open(path)
	}
	return openForRead(path)
}

func readDirNames(path string) ([]string, error) {
	f, err := openDir(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "special file"
}

// fill prepares the shared header for a member.
func (b *backupRun) fill(name string, m fileMeta) *header {
	h := &b.hdr
	*h = header{
		name:  name,
		mode:  tarMode(m.mode),
		uid:   m.uid,
		gid:   m.gid,
		uname: b.userName(m.uid),
		gname: b.groupName(m.gid),
		mtime: m.mtime.Unix(),
		atime: m.atime.Unix(),
		ctime: m.ctime.Unix(),
	}
	return h
}

// entry archives one non-directory.
func (b *backupRun) entry(fsPath, arcName string, m fileMeta) error {
	if err := b.ctx.Err(); err != nil {
		return err
	}
	h := b.fill(arcName, m)
	switch {
	case m.mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(fsPath)
		if err != nil {
			b.warn("%s: cannot read link: %v", arcName, err)
			return nil
		}
		h.typeflag, h.linkname = typeSymlink, target
		if err := b.out.writeHeader(h); err != nil {
			return err
		}
		b.stats.Links++
	case m.mode.IsRegular():
		key := devIno{m.dev, m.ino}
		if !b.derefHard && m.nlink > 1 {
			if first, ok := b.links[key]; ok {
				h.typeflag, h.linkname = typeLink, first
				if err := b.out.writeHeader(h); err != nil {
					return err
				}
				b.stats.Links++
				return nil
			}
		}
		f, err := b.open(fsPath)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				b.warn("%s: file removed before we read it", arcName)
			} else {
				b.warn("%s: cannot open: %v", arcName, err)
			}
			return nil
		}
		h.typeflag, h.size = typeReg, m.size
		if err := b.out.writeHeader(h); err != nil {
			f.Close()
			return err
		}
		err = b.out.readFrom(f, m.size, b.addBytes)
		f.Close()
		if err != nil {
			var wErr *writeError
			if errors.As(err, &wErr) {
				return err
			}
			if errors.Is(err, errShrank) {
				b.warn("%s: file shrank while being read; padded with zeros", arcName)
			} else {
				b.warn("%s: read error, padded with zeros: %v", arcName, err)
			}
		}
		if !b.derefHard && m.nlink > 1 {
			b.links[key] = arcName
		}
		b.stats.Files++
	default:
		b.warn("%s: %s skipped", arcName, kindOf(m.mode))
		return nil
	}
	b.report()
	return nil
}

func (b *backupRun) userName(uid int64) string {
	if n, ok := b.users[uid]; ok {
		return n
	}
	n := ""
	if u, err := user.LookupId(strconv.FormatInt(uid, 10)); err == nil {
		n = u.Username
	}
	b.users[uid] = n
	return n
}

func (b *backupRun) groupName(gid int64) string {
	if n, ok := b.groups[gid]; ok {
		return n
	}
	n := ""
	if g, err := user.LookupGroupId(strconv.FormatInt(gid, 10)); err == nil {
		n = g.Name
	}
	b.groups[gid] = n
	return n
}
