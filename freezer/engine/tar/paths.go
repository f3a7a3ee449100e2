package tar

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"freezer.dev/freezer/freezer/backup"
)

// maxOpenDirs bounds the cache of open directory handles.
const maxOpenDirs = 256

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
