package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"freezer.dev/freezer/freezer/backup"
)

// ConsistencyChecksum returns the --consistency-check checksum of a file or
// a tree: a hex SHA-256 that does not depend on the order in which the file
// system lists directories, so the same tree gives the same value wherever
// it is restored (upstream's depends on readdir order, so a
// restore-time comparison can fail for nothing).
//
// Algorithm (version 1): walk the tree in lexical order of the entries'
// relative paths ("." for the root of a tree; a single file is hashed as a
// directory "." holding it, which is what its restore produces). For each
// entry, feed one record to a single SHA-256:
//
//	"d" <path> "\x00"                          directory
//	"f" <path> "\x00" <size> "\x00" <sha256(content) hex> "\x00"   regular file
//	"l" <path> "\x00" <link target> "\x00"     symlink (not followed)
//
// The walk is the tar engine's, so that a good restore gives the value of
// its backup: a root that is a symlink to a directory is followed; entries
// that the engine's exclude matcher rejects (GNU tar rules: wildcards match
// '/', a pattern matches the whole relative path or any tail of it) are
// skipped; with followLinks (soft dereference) symlinks are hashed as what
// they point to, directories included, except a link back to a directory
// being walked (the engine skips such loops) or a dangling one (which the
// engine cannot save). Other types (sockets, devices, fifos) are skipped,
// as the engine skips them. Metadata (modes, owners, times) is not
// included: like upstream's, the checksum is about names and contents.
func ConsistencyChecksum(ctx context.Context, root string, exclude []string, followLinks bool) (string, error) {
	excluded, err := backup.ExcludeMatcher(exclude)
	if err != nil {
		return "", fmt.Errorf("--exclude: %w", err)
	}
	h := sha256.New()
	// As the engine: the root is followed whatever the dereference mode.
	fi, err := os.Stat(root)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		if !followLinks {
			if fi, err = os.Lstat(root); err != nil {
				return "", err
			}
		}
		// Hashed as the tree a restore produces: a directory holding it.
		fmt.Fprint(h, "d.\x00")
		if err := hashEntry(h, root, filepath.Base(root), fi); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	w := checksumWalk{ctx: ctx, h: h, excluded: excluded, followLinks: followLinks}
	fmt.Fprint(h, "d.\x00")
	if err := w.dir(root, "", []fs.FileInfo{fi}); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checksumWalk walks a tree in the tar engine's way for
// ConsistencyChecksum.
type checksumWalk struct {
	ctx         context.Context
	h           io.Writer
	excluded    func(rel string) bool
	followLinks bool
}

// dir hashes the entries below directory p (rel "" for the root) in
// lexical order, depth first; onPath holds the directories being walked,
// to stop at a symlink loop.
func (w *checksumWalk) dir(p, rel string, onPath []fs.FileInfo) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return fmt.Errorf("listing %s: %w", p, err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		cp, crel := filepath.Join(p, name), name
		if rel != "" {
			crel = rel + "/" + name
		}
		if w.excluded(crel) {
			continue
		}
		fi, err := os.Lstat(cp)
		if err == nil && w.followLinks && fi.Mode()&fs.ModeSymlink != 0 {
			fi, err = os.Stat(cp)
			if err != nil {
				continue // dangling: the engine cannot save it either
			}
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while we walk, as the engine does
		}
		if err != nil {
			return err
		}
		if fi.IsDir() && slices.ContainsFunc(onPath, func(a fs.FileInfo) bool { return os.SameFile(a, fi) }) {
			continue // a loop through a symlink: the engine skips it
		}
		if err := hashEntry(w.h, cp, crel, fi); err != nil {
			return err
		}
		if fi.IsDir() {
			if err := w.dir(cp, crel, append(onPath, fi)); err != nil {
				return err
			}
		}
	}
	return nil
}

// hashEntry feeds the record of the entry at p, of type fi (already
// followed if links are dereferenced), to h.
func hashEntry(h io.Writer, p, rel string, fi fs.FileInfo) error {
	switch {
	case fi.IsDir():
		fmt.Fprintf(h, "d%s\x00", rel)
	case fi.Mode()&fs.ModeSymlink != 0:
		t, err := os.Readlink(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "l%s\x00%s\x00", rel, t)
	case fi.Mode().IsRegular():
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fh := sha256.New()
		n, err := io.Copy(fh, f)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		fmt.Fprintf(h, "f%s\x00%s\x00%s\x00", rel, strconv.FormatInt(n, 10), hex.EncodeToString(fh.Sum(nil)))
	}
	return nil
}
