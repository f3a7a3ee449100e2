package multi

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/faulty"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

func newLocal(t *testing.T, name string) backup.Storage {
	s, err := local.New(local.Options{Root: filepath.Join(t.TempDir(), name)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) backup.Storage {
		m, err := New(newLocal(t, "a"), newLocal(t, "b"), newLocal(t, "c"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}

func TestEveryStorageGetsTheStream(t *testing.T) {
	a, b := newLocal(t, "a"), newLocal(t, "b")
	m, _ := New(a, b)
	ctx := context.Background()
	const n = 5<<20 + 3
	if err := m.Put(ctx, "x/data", storagetest.Generator(1, n)); err != nil {
		t.Fatal(err)
	}
	want, _, _ := storagetest.HashOf(storagetest.Generator(1, n))
	for _, st := range []backup.Storage{a, b} {
		rc, err := st.Get(ctx, "x/data")
		if err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		got, _, _ := storagetest.HashOf(rc)
		rc.Close()
		if got != want {
			t.Fatalf("%s holds different bytes", st)
		}
	}
}

func TestOneFailureFailsThePutAndNamesIt(t *testing.T) {
	a := newLocal(t, "a")
	bf := faulty.New(newLocal(t, "b"))
	m, _ := New(a, bf)
	ctx := context.Background()
	bf.Fail(faulty.Rule{Op: storage.OpPut, After: 3 << 20, Err: errors.New("disk full")})
	err := m.Put(ctx, "x/data", storagetest.Generator(2, 8<<20))
	if err == nil {
		t.Fatal("Put succeeded although one storage failed")
	}
	if !strings.Contains(err.Error(), "faulty:local:") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error does not name the failing storage: %v", err)
	}
	for _, st := range []backup.Storage{a, bf} {
		if _, err := st.Get(ctx, "x/data"); !errors.Is(err, backup.ErrNotFound) {
			t.Fatalf("%s holds the object after a failed multi Put: %v", st, err)
		}
	}
}

func TestFailureAtCommitUndoesOthers(t *testing.T) {
	// b fails after reading everything (as a failing rename would): the
	// copy a already committed must be removed again.
	a := newLocal(t, "a")
	bf := faulty.New(newLocal(t, "b"))
	bf.Fail(faulty.Rule{Op: storage.OpPut, After: 1 << 30, Err: errors.New("never reached")})
	m, _ := New(a, &failAtEnd{Storage: bf})
	ctx := context.Background()
	if err := m.Put(ctx, "metadata/x/metadata", strings.NewReader("{}")); err == nil {
		t.Fatal("Put succeeded")
	}
	if _, err := a.Get(ctx, "metadata/x/metadata"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("committed copy not undone: %v", err)
	}
}

type failAtEnd struct{ backup.Storage }

func (f *failAtEnd) Put(ctx context.Context, key string, r io.Reader) error {
	io.Copy(io.Discard, r)
	return errors.New("commit failed")
}

func TestListIsTheIntersectionAndGetFallsBack(t *testing.T) {
	a, b := newLocal(t, "a"), newLocal(t, "b")
	ctx := context.Background()
	// A chain only b has (e.g. b was added later, or a lost it).
	a.Put(ctx, "metadata/tar/h_n/100/0_100/metadata", strings.NewReader("{}"))
	b.Put(ctx, "metadata/tar/h_n/100/0_100/metadata", strings.NewReader("{}"))
	b.Put(ctx, "metadata/tar/h_n/200/0_200/metadata", strings.NewReader("{}"))
	m, _ := New(a, b)
	names, err := m.List(ctx, "metadata/tar/h_n")
	if err != nil || strings.Join(names, ",") != "100" {
		t.Fatalf("List = %q, %v; want only the chain both hold", names, err)
	}
	all, err := m.ListAll(ctx, "metadata/tar/h_n")
	if err != nil || strings.Join(all, ",") != "100,200" {
		t.Fatalf("ListAll = %q, %v", all, err)
	}
	rc, err := m.Get(ctx, "metadata/tar/h_n/200/0_200/metadata")
	if err != nil {
		t.Fatalf("Get of what only the second storage has: %v", err)
	}
	rc.Close()
}

func TestGetReportsRealErrors(t *testing.T) {
	af := faulty.New(newLocal(t, "a"))
	af.Fail(faulty.Rule{Op: storage.OpGet, Err: errors.New("permission denied")})
	m, _ := New(af, newLocal(t, "b"))
	_, err := m.Get(context.Background(), "k")
	if err == nil || errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("Get with one storage failing and none holding the key: %v, want a real error", err)
	}
}

func TestNewNeedsAStorage(t *testing.T) {
	if _, err := New(); err == nil {
		t.Fatal("New() succeeded")
	}
}

// TestSizeChecksEveryCopy: a copy missing from one storage is missing, and
// copies of different sizes are a mismatch naming both sizes.
func TestSizeChecksEveryCopy(t *testing.T) {
	a, b := newLocal(t, "a"), newLocal(t, "b")
	m, _ := New(a, b)
	ctx := context.Background()
	const key = "data/tar/h_b/1/0_1/data"
	if err := m.Put(ctx, key, strings.NewReader("0123456789")); err != nil {
		t.Fatal(err)
	}
	if n, err := backup.SizeOf(ctx, m, key); err != nil || n != 10 {
		t.Fatalf("Size = %d, %v; want 10", n, err)
	}
	if err := b.Put(ctx, key, strings.NewReader("01234")); err != nil {
		t.Fatal(err)
	}
	_, err := backup.SizeOf(ctx, m, key)
	if !errors.Is(err, backup.ErrSizeMismatch) || !strings.Contains(err.Error(), "10 bytes") || !strings.Contains(err.Error(), "5 bytes") {
		t.Errorf("copies of 10 and 5 bytes: err = %v", err)
	}
	if err := b.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.SizeOf(ctx, m, key); !errors.Is(err, backup.ErrNotFound) {
		t.Errorf("copy missing from b: err = %v, want ErrNotFound", err)
	}
}
