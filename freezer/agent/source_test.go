package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/faulty"
)

// fakeSource stands for a mode and snapshot: it serves a copy of the tree
// as "the snapshot" and counts its calls.
type fakeSource struct {
	snap         string
	prepareErr   error
	prepared     int
	released     int
	releaseCtxOK bool
}

func (f *fakeSource) Prepare(ctx context.Context, path string) (Prepared, error) {
	f.prepared++
	if f.prepareErr != nil {
		return Prepared{}, f.prepareErr
	}
	return Prepared{Path: f.snap, Snapshot: "fake", Stats: map[string]any{"lock_seconds": 0.25}}, nil
}

func (f *fakeSource) Release(ctx context.Context) error {
	f.released++
	f.releaseCtxOK = ctx.Err() == nil
	return nil
}

func TestSourceReadAndReleased(t *testing.T) {
	src := testTree(t)
	snap := t.TempDir()
	os.WriteFile(filepath.Join(snap, "frozen"), []byte("from the snapshot"), 0o644)
	ctx := context.Background()

	a, _ := newTestAgent(t)
	fs := &fakeSource{snap: snap}
	a.Source = fs
	var stderr strings.Builder
	a.Stderr = &stderr
	res, err := a.Run(ctx, backupOpts(src))
	if err != nil {
		t.Fatal(err)
	}
	if fs.prepared != 1 || fs.released != 1 {
		t.Errorf("prepared %d, released %d", fs.prepared, fs.released)
	}
	if !strings.Contains(stderr.String(), "writes blocked 250ms") {
		t.Errorf("stats line %q", stderr.String())
	}
	m := res.Metadata
	if m["snapshot"] != "fake" || m["vol_snap_path"] != snap || m["fs_real_path"] != src || m["lock_seconds"] != 0.25 {
		t.Errorf("result %v", m)
	}
	md, err := a.readMetadata(ctx, committed(t, a)[0])
	if err != nil || md.Snapshot != "fake" {
		t.Errorf("metadata %+v %v", md, err)
	}
	dst := t.TempDir()
	a.Source = nil
	if _, err := a.Run(ctx, Options{Action: ActionRestore, Mode: "fs", Engine: "tar", BackupName: "b", Hostname: "h", RestoreAbsPath: dst}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "frozen")); string(b) != "from the snapshot" {
		t.Errorf("the engine did not read the snapshot: %q", b)
	}
}

func TestSourceReleasedOnFailures(t *testing.T) {
	ctx := context.Background()
	src := testTree(t)

	// Prepare fails: no backup, Release still called.
	a, _ := newTestAgent(t)
	fs := &fakeSource{snap: src, prepareErr: errors.New("no snapshot here")}
	a.Source = fs
	if _, err := a.Run(ctx, backupOpts(src)); err == nil {
		t.Fatal("backup succeeded")
	}
	if fs.released != 1 || len(committed(t, a)) != 0 {
		t.Errorf("released %d, committed %d", fs.released, len(committed(t, a)))
	}

	// The storage fails mid-payload.
	a, f := newTestAgent(t)
	fs = &fakeSource{snap: src}
	a.Source = fs
	f.Fail(faulty.Rule{Op: storage.OpPut, KeyContains: "data", After: 100 << 10})
	if _, err := a.Run(ctx, backupOpts(src)); err == nil {
		t.Fatal("backup succeeded")
	}
	if fs.released != 1 {
		t.Errorf("released %d", fs.released)
	}

	// Cancelled (SIGTERM): released with a live context.
	a, _ = newTestAgent(t)
	fs = &fakeSource{snap: src}
	a.Source = fs
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	a.Run(cctx, backupOpts(src))
	if fs.released != 1 || !fs.releaseCtxOK {
		t.Errorf("released %d, with a live context %v", fs.released, fs.releaseCtxOK)
	}
}
