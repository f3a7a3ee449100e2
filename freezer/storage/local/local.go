package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
)

// tempPrefix starts the names of files being written; List hides them, and
// they can be removed by anyone cleaning up after a crash.
const tempPrefix = ".freezer-tmp-"

// Options configures a local storage.
type Options struct {
	// Root is the directory holding the layout (the --container value). It
	// is created when missing, unless NoCreate is set.
	Root string
	// NoCreate opens without creating Root, for the actions that only read
	// or delete: a mistyped container then finds no backup instead of
	// leaving an empty directory behind. Put still creates what it needs.
	NoCreate bool
	// DirMode and FileMode are the permissions of created directories and
	// files; zero means 0o700 and 0o600, as backups may be confidential.
	DirMode  fs.FileMode
	FileMode fs.FileMode
}

// Storage is a backup.Storage below a local directory.
type Storage struct {
	root     string
	dirMode  fs.FileMode
	fileMode fs.FileMode
}

var _ backup.Storage = (*Storage)(nil)

// New returns a storage rooted at opts.Root, creating the directory unless
// opts.NoCreate is set.
func New(opts Options) (*Storage, error) {
	if opts.Root == "" {
		return nil, fmt.Errorf("local storage: no container (root directory) given")
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, fmt.Errorf("local storage: resolving %q: %w", opts.Root, err)
	}
	s := &Storage{root: root, dirMode: opts.DirMode, fileMode: opts.FileMode}
	if s.dirMode == 0 {
		s.dirMode = 0o700
	}
	if s.fileMode == 0 {
		s.fileMode = 0o600
	}
	if opts.NoCreate {
		return s, nil
	}
	if err := os.MkdirAll(root, s.dirMode); err != nil {
		return nil, fmt.Errorf("local storage: creating root: %w", err)
	}
	return s, nil
}

// String names the storage.
func (s *Storage) String() string { return "local:" + s.root }

func (s *Storage) path(key string) string {
	return filepath.Join(s.root, filepath.FromSlash(key))
}

// Put writes r to a temporary file next to the target, syncs it and renames
// it into place.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	target := s.path(key)
	dir := filepath.Dir(target)
	if err := s.mkdirAll(dir); err != nil {
		return fmt.Errorf("writing %s: creating directory: %w", key, err)
	}
	f, err := os.CreateTemp(dir, tempPrefix+filepath.Base(target)+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(s.fileMode); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	if _, err := io.Copy(f, storage.ContextReader(ctx, r)); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: syncing: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: closing: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("writing %s: %w", key, err)
	}
	if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
		return fmt.Errorf("writing %s: a directory exists at that key", key)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("writing %s: renaming into place: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("writing %s: syncing directory: %w", key, err)
	}
	return nil
}

// mkdirAll creates dir and its missing parents, syncing each parent after
// an entry was added to it, so a new backup's directories survive a crash
// together with the file renamed into them.
func (s *Storage) mkdirAll(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := s.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, s.dirMode); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created by a concurrent writer
		}
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Get opens the file at key.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		if notExist(err) {
			return nil, fmt.Errorf("reading %s: %w", key, backup.ErrNotFound)
		}
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("reading %s: not a regular file: %w", key, backup.ErrNotFound)
	}
	return storage.ContextReadCloser(ctx, f), nil
}

// Size stats the file at key.
func (s *Storage) Size(ctx context.Context, key string) (int64, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("sizing %s: %w", key, err)
	}
	fi, err := os.Stat(s.path(key))
	if err != nil {
		if notExist(err) {
			return 0, fmt.Errorf("sizing %s: %w", key, backup.ErrNotFound)
		}
		return 0, fmt.Errorf("sizing %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("sizing %s: not a regular file: %w", key, backup.ErrNotFound)
	}
	return fi.Size(), nil
}

// List reads the directory at dir; os.ReadDir sorts by name.
func (s *Storage) List(ctx context.Context, dir string) ([]string, error) {
	if err := storage.CheckDir(dir); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	entries, err := os.ReadDir(s.path(dir))
	if err != nil {
		if notExist(err) {
			return []string{}, nil
		}
		return nil, fmt.Errorf("listing %q: %w", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		names = append(names, e.Name())
	}
	return names, nil
}

// Delete removes the file or directory tree at key.
func (s *Storage) Delete(ctx context.Context, key string) error {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	if err := os.RemoveAll(s.path(key)); err != nil && !notExist(err) {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	return nil
}

// notExist also treats "a path element is a file" as absence, which is
// what an object store would answer for such a key.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
