package storage

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// CheckKey rejects keys that are not clean, relative, "/"-separated paths:
// empty, absolute, with empty, "." or ".." elements, a trailing "/" or a NUL
// byte. Backends call it before touching anything so that no key can escape
// the storage root or alias another key.
func CheckKey(key string) error {
	if key == "" {
		return fmt.Errorf("empty storage key")
	}
	return checkPath(key)
}

// CheckDir is CheckKey for a directory argument, where "" names the root.
func CheckDir(dir string) error {
	if dir == "" {
		return nil
	}
	return checkPath(dir)
}

func checkPath(p string) error {
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("storage key %q: contains a NUL byte", p)
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("storage key %q: must be relative", p)
	}
	for _, el := range strings.Split(p, "/") {
		switch el {
		case "":
			return fmt.Errorf("storage key %q: empty path element", p)
		case ".", "..":
			return fmt.Errorf("storage key %q: %q path element", p, el)
		}
	}
	return nil
}

// Join joins a prefix and a key with "/"; an empty prefix gives the key.
func Join(prefix, key string) string {
	switch {
	case prefix == "":
		return key
	case key == "":
		return prefix
	}
	return prefix + "/" + key
}

// SplitRoot splits a container value "first[/rest]" into its first path
// element (a Swift container or S3 bucket) and the object-name prefix,
// without a trailing "/", as upstream does.
func SplitRoot(root string) (container, prefix string, err error) {
	root = strings.Trim(root, "/")
	if root == "" {
		return "", "", fmt.Errorf("empty container")
	}
	container, prefix, _ = strings.Cut(root, "/")
	if prefix != "" {
		if err := checkPath(prefix); err != nil {
			return "", "", fmt.Errorf("container %q: %w", root, err)
		}
	}
	return container, prefix, nil
}

// IsPayloadKey reports whether key is a backup payload ("…/data"), which
// segmenting backends store as several physical objects.
func IsPayloadKey(key string) bool {
	return key == "data" || strings.HasSuffix(key, "/data")
}

// ContextReader returns a reader that fails with ctx's error once ctx is
// done, so a copy loop stops at the next read after a cancellation.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ContextReadCloser is ContextReader for a ReadCloser, closing the original.
func ContextReadCloser(ctx context.Context, rc io.ReadCloser) io.ReadCloser {
	return struct {
		io.Reader
		io.Closer
	}{ContextReader(ctx, rc), rc}
}

// Close closes st when it holds a connection (ssh, ftp, multi and the
// decorators around them); other storages need no closing.
func Close(st any) error {
	if c, ok := st.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
