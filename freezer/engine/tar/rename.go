package tar

import (
	"path/filepath"
	"sort"
	"strings"
)

// maxRenames bounds the renames recorded in one level; past it, renamed
// directories are simply saved again in full.
const maxRenames = 1000

// prevName returns the name directory arcName had in the previous
// snapshot, following the renames found for this level.
func (b *backupRun) prevName(arcName string) string {
	if len(b.renamedFrom) == 0 {
		return arcName
	}
	for p := arcName; ; {
		if old, ok := b.renamedFrom[p]; ok {
			return old + arcName[len(p):]
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return arcName
		}
		p = p[:i]
	}
}

// findRenames walks the directories of the tree before anything is
// written and recognises, like GNU tar, a directory whose name is not in
// the previous snapshot but whose device and inode are: it was renamed.
// The restore then moves it (an R/T record in the top dumpdir) and only
// its changed entries are saved, instead of all of it.
//
// Only a rename onto a name the previous snapshot does not know is taken;
// swaps and renames over another directory are saved as new directories,
// which is always correct and needs no temporary names.
func (b *backupRun) findRenames(root string, m fileMeta) {
	byMeta := make(map[devIno]string, len(b.prev.dirs))
	for name, rec := range b.prev.dirs {
		if !plainDirName(name) {
			continue // a name our restore would refuse must not become an R record
		}
		k := devIno{rec.dev, rec.ino}
		if _, dup := byMeta[k]; dup {
			byMeta[k] = "" // ambiguous: never use
		} else {
			byMeta[k] = name
		}
	}
	b.renamedFrom = map[string]string{}
	var pairs [][2]string // sources in the restore's state when applied, targets
	var kept [][2]string  // directories saved as changed: current name, previous name
	onPath := map[devIno]bool{{m.dev, m.ino}: true}
	var walk func(fsPath, arcName string, dev uint64)
	walk = func(fsPath, arcName string, dev uint64) {
		names, err := readDirNames(fsPath)
		if err != nil {
			return // the main pass reports it
		}
		sort.Strings(names)
		for _, name := range names {
			full := arcName + "/" + name
			if b.excl.Match(full) {
				continue
			}
			p := filepath.Join(fsPath, name)
			em, err := b.stat(p)
			if err != nil || !em.mode.IsDir() || em.dev != dev {
				continue
			}
			key := devIno{em.dev, em.ino}
			if onPath[key] {
				continue
			}
			if rec := b.prev.dirs[b.prevName(full)]; rec != nil && rec.ino == em.ino {
				kept = append(kept, [2]string{full, b.prevName(full)})
			}
			if _, known := b.prev.dirs[b.prevName(full)]; !known && len(pairs) < maxRenames {
				if old := byMeta[key]; old != "" && old != "." && old != b.prevName(full) {
					// Where the old directory is when this record is
					// applied: after the renames before it.
					src := old
					for _, pr := range pairs {
						if src == pr[0] || strings.HasPrefix(src, pr[0]+"/") {
							src = pr[1] + src[len(pr[0]):]
						}
					}
					if !strings.HasPrefix(full, src+"/") {
						pairs = append(pairs, [2]string{src, full})
						b.renamedFrom[full] = old
					}
				}
			}
			onPath[key] = true
			walk(p, full, em.dev)
			delete(onPath, key)
		}
	}
	walk(root, ".", m.dev)
	if len(pairs) == 0 {
		return
	}
	if !b.renamesHold(pairs, kept) {
		// Some order of these renames would leave a directory elsewhere
		// than its dumpdir expects: save the renamed directories as new
		// ones instead, which is always right.
		b.renamedFrom = nil
		return
	}
	for _, pr := range pairs {
		b.renames = append(b.renames, 'R')
		b.renames = append(b.renames, pr[0]...)
		b.renames = append(b.renames, 0, 'T')
		b.renames = append(b.renames, pr[1]...)
		b.renames = append(b.renames, 0)
	}
}

// plainDirName reports whether a snapshot directory name has the shape
// this engine writes: "." or "./a/b", without empty, "." or ".." parts.
func plainDirName(name string) bool {
	if name == "." {
		return true
	}
	if !strings.HasPrefix(name, "./") {
		return false
	}
	for part := range strings.SplitSeq(name[2:], "/") {
		if part == "" || part == "." || part == ".." || strings.IndexByte(part, 0) >= 0 {
			return false
		}
	}
	return true
}

// vdir is a directory of the tree a restore has in place before it applies
// a level: the previous level's tree, as the snapshot describes it.
type vdir struct {
	parent *vdir
	name   string
	dirs   map[string]*vdir
	files  map[string]bool
}

func (d *vdir) has(name string) bool { return d.dirs[name] != nil || d.files[name] }

// renamesHold replays the renames on the previous tree, as GNU tar and our
// restore apply them, and checks that each is possible (source there,
// destination free, no file in the way) and that afterwards every
// directory saved as changed sits where its dumpdir expects it: at its
// current name, the directory of its previous name.
func (b *backupRun) renamesHold(pairs, kept [][2]string) bool {
	root := &vdir{name: ".", dirs: map[string]*vdir{}, files: map[string]bool{}}
	byName := map[string]*vdir{".": root}
	var ensure func(name string) *vdir
	ensure = func(name string) *vdir {
		if d := byName[name]; d != nil {
			return d
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return nil
		}
		parent := ensure(name[:i])
		if parent == nil {
			return nil
		}
		d := &vdir{parent: parent, name: name[i+1:], dirs: map[string]*vdir{}, files: map[string]bool{}}
		parent.dirs[d.name] = d
		delete(parent.files, d.name)
		byName[name] = d
		return d
	}
	for name, rec := range b.prev.dirs {
		if !plainDirName(name) {
			continue
		}
		d := ensure(name)
		names, flags := rec.entries()
		for i, n := range names {
			if flags[i] == 'D' {
				ensure(name + "/" + n)
			} else if d.dirs[n] == nil {
				d.files[n] = true
			}
		}
	}
	// lookup walks a "./a/b" path; with create, missing directories are
	// made as a restore does for a rename's destination.
	lookup := func(path string, create bool) (*vdir, bool) {
		d := root
		if path == "." {
			return d, true
		}
		for part := range strings.SplitSeq(strings.TrimPrefix(path, "./"), "/") {
			if next := d.dirs[part]; next != nil {
				d = next
				continue
			}
			if d.files[part] || !create {
				return nil, false
			}
			next := &vdir{parent: d, name: part, dirs: map[string]*vdir{}, files: map[string]bool{}}
			d.dirs[part] = next
			d = next
		}
		return d, true
	}
	for _, pr := range pairs {
		src, ok := lookup(pr[0], false)
		if !ok || src == root {
			return false
		}
		i := strings.LastIndexByte(pr[1], '/')
		parent, ok := lookup(pr[1][:i], true)
		if !ok || parent.has(pr[1][i+1:]) {
			return false
		}
		for p := parent; p != nil; p = p.parent {
			if p == src {
				return false // into itself
			}
		}
		delete(src.parent.dirs, src.name)
		src.parent, src.name = parent, pr[1][i+1:]
		parent.dirs[src.name] = src
	}
	for _, k := range kept {
		at, ok := lookup(k[0], false)
		if !ok || at != byName[k[1]] {
			return false
		}
	}
	return true
}
