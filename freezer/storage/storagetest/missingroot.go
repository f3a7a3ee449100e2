package storagetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// RunMissingRoot checks a storage opened for reading only (the backend's
// NoCreate option) on a root — directory, container or bucket — that does
// not exist. A restore, info or retention run with a mistyped --container
// must find nothing and leave nothing behind: lists are empty, every key
// is missing, deleting a missing key succeeds, and afterwards exists
// reports that the root is still absent.
func RunMissingRoot(t *testing.T, open func(t *testing.T) (st backup.Storage, exists func() bool)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, exists := open(t)
	if exists() {
		t.Fatal("the root exists right after opening with NoCreate")
	}
	wantList(ctx, t, st, "")
	wantList(ctx, t, st, "metadata/tar/host_bk")
	wantNotFound(ctx, t, st, "metadata/tar/host_bk/1/0_1/metadata")
	wantNotFound(ctx, t, st, "data/tar/host_bk/1/0_1/data")
	if err := st.Delete(ctx, "data/tar/host_bk/1/0_1"); err != nil {
		t.Fatalf("Delete of a key under a missing root: %v", err)
	}
	if exists() {
		t.Fatal("reading and deleting created the root")
	}
}

// ListedIn is an exists function for RunMissingRoot when the root is a
// directory: whether name is listed at the top of parent, a storage on the
// directory above the root. name is deleted from parent when the test ends.
func ListedIn(t *testing.T, parent backup.Storage, name string) func() bool {
	ctx := context.Background()
	t.Cleanup(func() { parent.Delete(ctx, name) })
	return func() bool {
		names, err := parent.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(names, name)
	}
}
