package tar

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"freezer.dev/freezer/freezer/backup"
)

// Staging (RestoreRequest.Verify set): a stream checked only after its
// last byte may hold damage anywhere, so no file, link or symbolic link
// is put in place while the level is read. Each is made under a temporary
// name in its own directory, which costs no extra space (the content is
// written once, where it stays) and needs one rename per name at the end;
// only a file that replaces one already there holds both until then.
// What is kept per staged name is its directory, its two base names and
// a map entry for hard links: about a hundred bytes plus the path, the
// same order as the names themselves.

// stagePrefix starts every temporary name; the rest is a token random
// per restore and a sequence number, so a purge can tell ours apart.
const stagePrefix = ".freezer-tar-stage."

type stagedName struct {
	parent, temp, base string
}

func newStageToken() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// isStaged reports whether name (a base name) is one of this restore's
// temporary names.
func (r *restorer) isStaged(name string) bool {
	return r.verify != nil && strings.HasPrefix(name, stagePrefix) &&
		strings.HasPrefix(name[len(stagePrefix):], r.stageTok+".")
}

// tempName returns a new temporary name for a member.
func (r *restorer) tempName() string {
	r.stageSeq++
	return stagePrefix + r.stageTok + "." + strconv.Itoa(r.stageSeq)
}

// staged records that temp in parent is to become base.
func (r *restorer) stage(parent, temp, base string) {
	rel := joinRel(parent, base)
	r.stagedAt[rel] = len(r.staged)
	r.staged = append(r.staged, stagedName{parent: parent, temp: temp, base: base})
}

// stagedPath returns where the staged content of rel is now, if rel was
// staged in this level.
func (r *restorer) stagedPath(rel string) (string, bool) {
	i, ok := r.stagedAt[rel]
	if !ok {
		return "", false
	}
	s := r.staged[i]
	return joinRel(s.parent, s.temp), true
}

// moveStaged follows a directory rename from src to dst.
func (r *restorer) moveStaged(src, dst string) {
	if len(r.staged) == 0 {
		return
	}
	clear(r.stagedAt)
	for i := range r.staged {
		s := &r.staged[i]
		if s.parent == src || strings.HasPrefix(s.parent, src+"/") {
			s.parent = dst + s.parent[len(src):]
		}
		r.stagedAt[joinRel(s.parent, s.base)] = i
	}
}

// commit renames every staged name into place, in archive order, so a
// name staged twice ends with its last content. What cannot be put in
// place is named in the error.
func (r *restorer) commit() error {
	var failed []string
	var first error
	for _, s := range r.staged {
		rel := joinRel(s.parent, s.base)
		err := r.place(s)
		if err != nil {
			failed = append(failed, rel)
			if first == nil {
				first = err
			}
			if h, herr := r.dirHandle(s.parent, false); herr == nil {
				h.Remove(s.temp)
			}
		}
	}
	r.staged = r.staged[:0]
	clear(r.stagedAt)
	if first != nil {
		return &backup.NotRestoredError{Paths: failed, Err: first}
	}
	return nil
}

func (r *restorer) place(s stagedName) error {
	rel := joinRel(s.parent, s.base)
	h, err := r.dirHandle(s.parent, false)
	if err != nil {
		return fmt.Errorf("putting %s in place: %w", rel, err)
	}
	err = h.Rename(s.temp, s.base)
	if err == nil {
		return nil
	}
	// A directory (or, on some systems, anything) in the way: replaced,
	// as an unstaged restore replaces it.
	if fi, lerr := h.Lstat(s.base); lerr == nil && fi.IsDir() {
		if cerr := r.clear(h, rel, s.base); cerr != nil {
			return cerr
		}
		err = h.Rename(s.temp, s.base)
	}
	if err != nil {
		return fmt.Errorf("putting %s in place: %w", rel, err)
	}
	return nil
}

// discard removes every staged name and returns their final paths.
func (r *restorer) discard() []string {
	paths := make([]string, 0, len(r.staged))
	for _, s := range r.staged {
		paths = append(paths, joinRel(s.parent, s.base))
		h, err := r.dirHandle(s.parent, false)
		if err != nil {
			continue // its directory went with a rename or purge
		}
		if err := h.Remove(s.temp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.warn("%s: cannot remove temporary %s: %v", joinRel(s.parent, s.base), s.temp, err)
		}
	}
	r.staged = r.staged[:0]
	clear(r.stagedAt)
	return paths
}

// failure turns a failure of the extraction into the error Restore
// returns: staged names are removed, a file cut short is removed, and
// both are named.
func (r *restorer) failure(err error, unread bool) error {
	var paths []string
	if r.verify != nil {
		paths = r.discard()
	}
	if r.partial != "" {
		paths = append(paths, r.partial)
		r.partial = ""
	}
	if len(paths) == 0 && !unread {
		return err
	}
	return &backup.NotRestoredError{Paths: paths, Unread: unread, Err: err}
}

// removePartial removes file name in p (path rel), written in place and
// cut short, and remembers it for the error.
func (r *restorer) removePartial(p *os.Root, rel, name string) {
	if err := p.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.warn("%s: cannot remove the incomplete file: %v", rel, err)
	}
	r.partial = rel
}
