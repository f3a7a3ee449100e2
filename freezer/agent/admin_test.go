package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/faulty"
)

// adminFixture is a storage holding a chain admin removes whole (0, 1), a
// chain it prunes (0, then always-level 1 differentials, the older ones
// superseded), and the payload of a run that never committed, older than
// OrphanGrace. It returns the agent and the admin options.
func adminFixture(t *testing.T) (*Agent, *faulty.Storage, Options) {
	t.Helper()
	a, f := newTestAgent(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(o Options) {
		t.Helper()
		if _, err := a.Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	o := backupOpts(src)
	o.MaxLevel = 1
	run(o) // chain A: 0
	run(o) // A: 1
	run(o) // chain B: 0
	o.MaxLevel, o.AlwaysLevel = 0, 1
	run(o) // B: 1 (superseded)
	run(o) // B: 1 (superseded)
	run(o) // B: 1 (kept: newer than the cutoff)
	refs := committed(t, a)
	if len(refs) != 6 {
		t.Fatalf("%d backups, want 6: %v", len(refs), refs)
	}
	orphan := backup.Ref{Engine: "tar", Name: "h_b", L0: refs[0].L0 - 3*86400, Level: 0, TS: refs[0].L0 - 3*86400}
	put(t, a, orphan.DataKey(), []byte("never committed"))
	ad := Options{Action: ActionAdmin, Mode: "fs", Engine: "tar", BackupName: "b", Hostname: "h",
		RemoveFromDate: time.Unix(refs[4].TS, 0)}
	// Admin runs two days later: what it removes is older than
	// OrphanGrace, so data a failed run leaves behind is collected by the
	// next.
	later := time.Unix(refs[5].TS, 0).Add(2 * 24 * time.Hour)
	a.Now = func() time.Time { later = later.Add(time.Second); return later }
	return a, f, ad
}

// storageKeys lists every key below dir, sorted.
func storageKeys(t *testing.T, st backup.Storage, dir string) []string {
	t.Helper()
	names, err := st.List(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, n := range names {
		k := dir + "/" + n
		if sub := storageKeys(t, st, k); len(sub) > 0 {
			keys = append(keys, sub...)
		} else {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// TestAdminInterruptedNeverOrphansAListedBackup: admin deletes metadata
// before data. Whichever delete fails, every backup still listed keeps its
// payload and engine state (so it still restores), and the next run
// finishes the job: the storage ends as after an uninterrupted run.
func TestAdminInterruptedNeverOrphansAListedBackup(t *testing.T) {
	ref, refStore, ad := adminFixture(t)
	if _, err := ref.Run(context.Background(), ad); err != nil {
		t.Fatal(err)
	}
	deletes := refStore.Calls(storage.OpDelete)
	want := storageKeys(t, ref.Storage, "data")
	wantListed := committed(t, ref)
	if deletes < 5 || len(wantListed) != 2 {
		t.Fatalf("fixture: %d deletes, %d backups left; want at least 5 and 2", deletes, len(wantListed))
	}
	for k := range deletes {
		t.Run(fmt.Sprintf("delete %d of %d fails", k+1, deletes), func(t *testing.T) {
			a, f, ad := adminFixture(t)
			f.Fail(faulty.Rule{Op: storage.OpDelete, Skip: k, Times: 1})
			// Removing an emptied chain directory is best effort: its
			// failure is no error.
			if _, err := a.Run(context.Background(), ad); err != nil && !errors.Is(err, faulty.ErrInjected) {
				t.Fatalf("admin: %v, want the injected failure", err)
			}
			for _, r := range committed(t, a) {
				for _, key := range []string{r.DataKey(), r.EngineMetadataKey()} {
					rc, err := a.Storage.Get(context.Background(), key)
					if err != nil {
						t.Errorf("backup %s is listed but %s is gone: %v", r, key, err)
						continue
					}
					rc.Close()
				}
			}
			// The restore the listing promises still works.
			if _, err := a.Run(context.Background(), restoreOpts(t.TempDir())); err != nil {
				t.Errorf("restore after the interrupted admin: %v", err)
			}
			if _, err := a.Run(context.Background(), ad); err != nil {
				t.Fatalf("admin again: %v", err)
			}
			if got := committed(t, a); !slices.Equal(got, wantListed) {
				t.Errorf("listed after the second run %v, want %v", got, wantListed)
			}
			if got := storageKeys(t, a.Storage, "data"); !slices.Equal(got, want) {
				t.Errorf("data after the second run:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestAdminAbandonedUploadGrace: the data of a backup that never
// completed stays while it started less than AbandonedUploadGrace days
// ago, whatever the retention cutoff, and goes after; a negative grace is
// a usage error.
func TestAdminAbandonedUploadGrace(t *testing.T) {
	for _, c := range []struct {
		grace float64
		kept  bool
	}{{6, true}, {4, false}} {
		t.Run(fmt.Sprint(c.grace), func(t *testing.T) {
			a, _, ad := adminFixture(t)
			orphanDir := ""
			for _, k := range storageKeys(t, a.Storage, "data") {
				if !slices.ContainsFunc(committed(t, a), func(r backup.Ref) bool { return strings.HasPrefix(k, r.DataDir()+"/") }) {
					orphanDir = path.Dir(k)
				}
			}
			if orphanDir == "" {
				t.Fatal("fixture: no uncommitted data")
			}
			ad.AbandonedUploadGrace = c.grace // the orphan started about 5 days before admin runs
			if _, err := a.Run(context.Background(), ad); err != nil {
				t.Fatal(err)
			}
			names, err := a.Storage.List(context.Background(), orphanDir)
			if err != nil {
				t.Fatal(err)
			}
			if kept := len(names) > 0; kept != c.kept {
				t.Fatalf("grace %v days: uncommitted data kept %v, want %v", c.grace, kept, c.kept)
			}
		})
	}
	_, _, ad := adminFixture(t)
	ad.AbandonedUploadGrace = -1
	if err := ad.Validate(); !errors.Is(err, ErrUsage) {
		t.Fatalf("negative grace: %v, want a usage error", err)
	}
}
