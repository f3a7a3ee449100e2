package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
)

// ConsistencyChecksum returns the --consistency-check checksum of a file or
// a tree: a hex SHA-256 that does not depend on the order in which the file
// system lists directories, so the same tree gives the same value wherever
// it is restored (upstream's depends on readdir order, spec §10, and a
// restore-time comparison can fail for nothing).
//
// Algorithm (version 1): walk the tree in lexical order of the entries'
// relative paths ("." for the root of a tree; a single file is hashed as a
// directory "." holding it, which is what its restore produces), skipping entries whose base name matches an exclude pattern. For
// each entry, feed one record to a single SHA-256:
//
//	"d" <path> "\x00"                          directory
//	"f" <path> "\x00" <size> "\x00" <sha256(content) hex> "\x00"   regular file
//	"l" <path> "\x00" <link target> "\x00"     symlink (not followed)
//
// Other types (sockets, devices, fifos) are skipped, as the engine skips
// them. With followLinks, symlinks are hashed as what they point to.
// Metadata (modes, owners, times) is not included: like upstream's, the
// checksum is about names and contents.
func ConsistencyChecksum(ctx context.Context, root string, exclude []string, followLinks bool) (string, error) {
	h := sha256.New()
	excluded := func(name string) bool {
		for _, p := range exclude {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
		return false
	}
	fi, err := os.Lstat(root)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() && !(followLinks && isLinkToDir(root)) {
		// Hashed as the tree a restore produces: a directory holding it.
		fmt.Fprint(h, "d.\x00")
		if err := hashEntry(h, root, filepath.Base(root), fi, followLinks); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && excluded(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return hashEntry(h, p, rel, info, followLinks)
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func isLinkToDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func hashEntry(h io.Writer, p, rel string, fi fs.FileInfo, followLinks bool) error {
	if fi.Mode()&fs.ModeSymlink != 0 && followLinks {
		if t, err := os.Stat(p); err == nil {
			fi = t
		}
	}
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
