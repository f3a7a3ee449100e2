package tar

import (
	"archive/tar"
	"path"
	"strings"
)

// selected reports whether rel is restored under RestoreRequest.Paths:
// it, or a directory above it, matches one of the globs.
func (r *restorer) selected(rel string) bool {
	if len(r.paths) == 0 {
		return true
	}
	for p := rel; ; {
		for _, g := range r.paths {
			if ok, _ := path.Match(g, p); ok {
				return true
			}
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// skipDir remembers the attributes of a directory that is not selected:
// if a member below it is, the directory is made with them.
func (r *restorer) skipDir(rel string, hdr *tar.Header) {
	if rel == "" {
		return
	}
	if r.skippedDirs == nil {
		r.skippedDirs = map[string]*tar.Header{}
	}
	r.skippedDirs[rel] = hdr
}

// makeParents makes the skipped directories above rel, a selected member,
// with their own attributes (set at the end, as every directory's).
func (r *restorer) makeParents(rel string) error {
	if len(r.skippedDirs) == 0 {
		return nil
	}
	var above []string
	for p := rel; ; {
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
		if _, ok := r.skippedDirs[p]; ok {
			above = append(above, p)
		}
	}
	for i := len(above) - 1; i >= 0; i-- {
		d := above[i]
		hdr := r.skippedDirs[d]
		delete(r.skippedDirs, d)
		if _, err := r.mkdir(d, hdr); err != nil {
			return err
		}
	}
	return nil
}
