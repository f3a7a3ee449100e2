package btrfs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/snapshot"
	"freezer.dev/freezer/internal/testutil/loopfs"
)

func manager(t *testing.T, r snapshot.Runner) *snapshot.Manager {
	return &snapshot.Manager{
		Journal:   filepath.Join(t.TempDir(), "journal"),
		Providers: []snapshot.Provider{New(Options{Runner: r})},
	}
}

func subvolumes(t *testing.T, mnt string) string {
	out, err := exec.Command("btrfs", "subvolume", "list", mnt).CombinedOutput()
	if err != nil {
		t.Fatalf("btrfs subvolume list: %v: %s", err, out)
	}
	return string(out)
}

func TestSnapshotIsFrozenAndRemoved(t *testing.T) {
	mnt := loopfs.Btrfs(t, 256<<20)
	data := filepath.Join(mnt, "data")
	loopfs.Subvolume(t, data)
	os.MkdirAll(filepath.Join(data, "db"), 0o755)
	os.WriteFile(filepath.Join(data, "db", "f"), []byte("v1"), 0o644)

	m := manager(t, nil)
	ctx := context.Background()
	s, err := m.Take(ctx, "auto", filepath.Join(data, "db"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Record.Kind != "btrfs" || s.Record.Origin != data {
		t.Errorf("record %+v", s.Record)
	}
	os.WriteFile(filepath.Join(data, "db", "f"), []byte("v2"), 0o644)
	b, err := os.ReadFile(filepath.Join(s.Path(), "f"))
	if err != nil || string(b) != "v1" {
		t.Errorf("snapshot reads %q, %v; want v1", b, err)
	}
	if err := os.WriteFile(filepath.Join(s.Path(), "g"), nil, 0o644); err == nil {
		t.Error("the snapshot is writable")
	}
	// The snapshot directory does not show inside the snapshot itself.
	whole, err := m.Take(ctx, "btrfs", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(whole.Path(), SnapDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s inside the snapshot: %v", SnapDir, err)
	}
	for _, x := range []*snapshot.Snapshot{s, whole} {
		if err := x.Remove(ctx); err != nil {
			t.Fatal(err)
		}
		if err := x.Remove(ctx); err != nil {
			t.Fatalf("second Remove: %v", err)
		}
	}
	if l := subvolumes(t, mnt); strings.Contains(l, "freezer_backup_snap_") {
		t.Errorf("snapshots left:\n%s", l)
	}
	if _, err := os.Lstat(filepath.Join(data, SnapDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left: %v", SnapDir, err)
	}
}

func TestNotBtrfs(t *testing.T) {
	m := manager(t, nil)
	dir := t.TempDir()
	_, err := m.Take(context.Background(), "auto", dir)
	if isBtrfs(dir) {
		t.Skip("the temp dir is on btrfs")
	}
	if !errors.Is(err, snapshot.ErrNotApplicable) || !strings.Contains(err.Error(), "not on a btrfs") {
		t.Fatalf("err = %v", err)
	}
}

func isBtrfs(p string) bool {
	out, _ := exec.Command("stat", "-f", "-c", "%T", p).Output()
	return strings.TrimSpace(string(out)) == "btrfs"
}

// failRunner fails the command whose text starts with prefix.
type failRunner struct {
	prefix string
	calls  []string
}

func (f *failRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	c := strings.Join(append([]string{name}, args...), " ")
	f.calls = append(f.calls, c)
	if strings.HasPrefix(c, f.prefix) {
		return nil, errors.New("injected failure")
	}
	return snapshot.ExecRunner{}.Run(ctx, name, args...)
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	mnt := loopfs.Btrfs(t, 256<<20)
	for _, prefix := range []string{"btrfs subvolume snapshot", "btrfs property set"} {
		r := &failRunner{prefix: prefix}
		m := manager(t, r)
		if _, err := m.Take(context.Background(), "btrfs", mnt); err == nil {
			t.Fatalf("%s: Take succeeded", prefix)
		}
		if l := subvolumes(t, mnt); strings.Contains(l, "freezer_backup_snap_") {
			t.Errorf("%s: snapshots left:\n%s", prefix, l)
		}
		if ents, _ := os.ReadDir(m.Journal); len(ents) != 0 {
			t.Errorf("%s: journal entries left", prefix)
		}
	}
}

// A snapshot whose owner died (its journal entry unlocked) is removed by
// the next Recover; one whose owner lives is left alone.
func TestRecover(t *testing.T) {
	mnt := loopfs.Btrfs(t, 256<<20)
	m := manager(t, nil)
	ctx := context.Background()
	live, err := m.Take(ctx, "btrfs", mnt)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Providers[0]
	rec, err := p.Plan(ctx, mnt)
	if err != nil {
		t.Fatal(err)
	}
	rec.Kind = "btrfs"
	if err := p.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	writeEntry(t, m.Journal, rec)
	got, err := m.Recover(ctx)
	if err != nil || len(got) != 1 || got[0].Name != rec.Name {
		t.Fatalf("Recover = %v, %v", got, err)
	}
	l := subvolumes(t, mnt)
	if strings.Contains(l, rec.Name) || !strings.Contains(l, live.Record.Name) {
		t.Errorf("after Recover:\n%s", l)
	}
	if err := live.Remove(ctx); err != nil {
		t.Fatal(err)
	}
}
