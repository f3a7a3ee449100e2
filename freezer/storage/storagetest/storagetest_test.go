package storagetest_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

// broken wraps a good storage and breaks one promise of the interface.
type broken struct {
	backup.Storage
	how string
}

func (b *broken) List(ctx context.Context, dir string) ([]string, error) {
	names, err := b.Storage.List(ctx, dir)
	switch b.how {
	case "unsorted":
		slices.Reverse(names)
	case "prefix":
		// What upstream's S3 listing did: also match names that only
		// start with the directory's name.
		if i := strings.LastIndexByte(dir, '/'); i > 0 && len(names) > 0 {
			more, _ := b.Storage.List(ctx, dir+"0")
			names = append(names, more...)
			slices.Sort(names)
		}
	}
	return names, err
}

func (b *broken) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := b.Storage.Get(ctx, key)
	if b.how == "notfound" && errors.Is(err, backup.ErrNotFound) {
		return nil, errors.New("no such object")
	}
	return rc, err
}

func (b *broken) Size(ctx context.Context, key string) (int64, error) {
	n, err := backup.SizeOf(ctx, b.Storage, key)
	if b.how == "size" && n > 0 {
		n--
	}
	return n, err
}

func (b *broken) Put(ctx context.Context, key string, r io.Reader) error {
	if b.how == "partial" {
		// Keep whatever arrived, like an FTP STOR cut short.
		pr, pw := io.Pipe()
		go func() {
			_, err := io.Copy(pw, r)
			_ = err
			pw.Close()
		}()
		return b.Storage.Put(ctx, key, pr)
	}
	if b.how == "swallow" {
		err := b.Storage.Put(ctx, key, r)
		_ = err
		return nil
	}
	return b.Storage.Put(ctx, key, r)
}

// TestBrokenStorageHelper runs the suite on a broken storage when asked to
// by TestSuiteCatchesBrokenStorages; on its own it does nothing.
func TestBrokenStorageHelper(t *testing.T) {
	how := os.Getenv("STORAGETEST_BREAK")
	if how == "" {
		return
	}
	storagetest.RunConfig(t, storagetest.Config{LargeSize: 1 << 20}, func(t *testing.T) backup.Storage {
		s, err := local.New(local.Options{Root: filepath.Join(t.TempDir(), "c")})
		if err != nil {
			t.Fatal(err)
		}
		return &broken{Storage: s, how: how}
	})
}

// TestSuiteCatchesBrokenStorages proves the suite can fail: each broken
// promise makes it fail, while the unbroken storage passes.
func TestSuiteCatchesBrokenStorages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in subprocesses")
	}
	for _, how := range []string{"none", "unsorted", "prefix", "notfound", "partial", "swallow", "size"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStorageHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "STORAGETEST_BREAK="+how)
		out, err := cmd.CombinedOutput()
		if how == "none" {
			if err != nil {
				t.Fatalf("the suite fails a correct storage:\n%s", out)
			}
			continue
		}
		if err == nil {
			t.Errorf("the suite passes a storage broken as %q", how)
		}
	}
}
