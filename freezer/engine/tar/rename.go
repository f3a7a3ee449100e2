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
			if b.excl.match(full) {
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
