package faulty

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

func newLocal(t *testing.T) backup.Storage {
	s, err := local.New(local.Options{Root: filepath.Join(t.TempDir(), "c")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformanceWithoutRules(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) backup.Storage { return New(newLocal(t)) })
}

func TestCutPutLeavesNothing(t *testing.T) {
	f := New(newLocal(t))
	f.Fail(Rule{Op: storage.OpPut, KeyContains: "data", After: 100, Times: 1})
	ctx := context.Background()
	err := f.Put(ctx, "x/data", storagetest.Generator(1, 1000))
	if !errors.Is(err, ErrInjected) {
		t.Fatalf("Put error %v, want the injected one", err)
	}
	if _, err := f.Get(ctx, "x/data"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("Get after cut Put: %v", err)
	}
	// Times: 1 is used up; the next Put goes through.
	if err := f.Put(ctx, "x/data", strings.NewReader("ok")); err != nil {
		t.Fatal(err)
	}
	// Rules only match their key.
	f.Fail(Rule{Op: storage.OpGet, KeyContains: "other"})
	rc, err := f.Get(ctx, "x/data")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

func TestCutGet(t *testing.T) {
	f := New(newLocal(t))
	ctx := context.Background()
	if err := f.Put(ctx, "k", storagetest.Generator(2, 500)); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("connection reset")
	f.Fail(Rule{Op: storage.OpGet, After: 200, Err: boom})
	rc, err := f.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if n != 200 || !errors.Is(err, boom) {
		t.Fatalf("read %d bytes, err %v; want 200 and the injected error", n, err)
	}
	f.Clear()
	f.Fail(Rule{Op: storage.OpList})
	f.Fail(Rule{Op: storage.OpDelete})
	if _, err := f.List(ctx, ""); !errors.Is(err, ErrInjected) {
		t.Fatalf("List: %v", err)
	}
	if err := f.Delete(ctx, "k"); !errors.Is(err, ErrInjected) {
		t.Fatalf("Delete: %v", err)
	}
}

// Skip lets calls through before the rule fails one, so a test can fail
// the n-th call of a sequence.
func TestSkipThenFail(t *testing.T) {
	f := New(newLocal(t))
	f.Fail(Rule{Op: storage.OpDelete, Skip: 2, Times: 1})
	ctx := context.Background()
	for i, want := range []error{nil, nil, ErrInjected, nil} {
		if err := f.Delete(ctx, "k"); !errors.Is(err, want) {
			t.Fatalf("delete %d: %v, want %v", i+1, err, want)
		}
	}
}
