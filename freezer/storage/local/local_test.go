package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

func newTemp(t *testing.T) backup.Storage {
	s, err := New(Options{Root: filepath.Join(t.TempDir(), "container")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, newTemp)
}

func TestLayoutOnDisk(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	s, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	ref := backup.Ref{Engine: "tar", Name: "hostA_bk1", L0: 1795627945, Level: 0, TS: 1795627945}
	ctx := context.Background()
	for _, k := range []string{ref.DataKey(), ref.EngineMetadataKey(), ref.MetadataKey()} {
		if err := s.Put(ctx, k, strings.NewReader(k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{
		"data/tar/hostA_bk1/1795627945/0_1795627945/data",
		"data/tar/hostA_bk1/1795627945/0_1795627945/engine_metadata",
		"metadata/tar/hostA_bk1/1795627945/0_1795627945/metadata",
	} {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatalf("layout: %v", err)
		}
		if string(b) != p {
			t.Fatalf("%s holds %q", p, b)
		}
		fi, _ := os.Stat(filepath.Join(root, p))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	// No temporary files are left behind after successful writes.
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFailedPutRemovesTemp(t *testing.T) {
	root := t.TempDir()
	s, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Put(context.Background(), "a/b", storagetest.FailingReader(storagetest.Generator(1, 1<<20), 1000))
	if err == nil {
		t.Fatal("Put of a failing reader succeeded")
	}
	entries, err := os.ReadDir(filepath.Join(root, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries[0].Name())
	}
}

func TestHidesForeignTempFiles(t *testing.T) {
	root := t.TempDir()
	s, err := New(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	// What a crash in the middle of a Put leaves.
	if err := os.WriteFile(filepath.Join(root, tempPrefix+"data-123"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	names, err := s.List(context.Background(), "")
	if err != nil || len(names) != 0 {
		t.Fatalf("List = %q, %v; want empty", names, err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a root succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := New(Options{Root: filepath.Join(f, "sub")}); err == nil {
		t.Fatal("New below a file succeeded")
	}
}

func TestPutOverDirectoryFails(t *testing.T) {
	s := newTemp(t)
	ctx := context.Background()
	if err := s.Put(ctx, "d/x", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "d", strings.NewReader("y")); err == nil {
		t.Fatal("Put over a directory succeeded")
	}
}

func TestMissingRootNotCreated(t *testing.T) {
	storagetest.RunMissingRoot(t, func(t *testing.T) (backup.Storage, func() bool) {
		root := filepath.Join(t.TempDir(), "no", "container")
		s, err := New(Options{Root: root, NoCreate: true})
		if err != nil {
			t.Fatal(err)
		}
		return s, func() bool {
			_, err := os.Lstat(filepath.Dir(root))
			return err == nil
		}
	})
}
