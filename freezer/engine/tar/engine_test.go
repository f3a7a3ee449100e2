//go:build unix

package tar

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

func TestLevel0RoundTrip(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	buildTree(t, src)
	e := New(Options{})
	l0 := runBackup(t, e, src, nil)
	if l0.stats.Files == 0 || l0.stats.Dirs == 0 || l0.stats.Links == 0 {
		t.Fatalf("stats look empty: %+v", l0.stats)
	}
	if len(l0.archive)%recordSize != 0 {
		t.Errorf("archive size %d is not a whole number of %d-byte records", len(l0.archive), recordSize)
	}
	if !bytes.HasPrefix(l0.state, []byte(snapshotMagic)) {
		t.Errorf("state does not start with %q: %q", snapshotMagic, l0.state[:min(len(l0.state), 40)])
	}
	st := runRestore(t, e, dst, l0.archive)
	if st.Files != l0.stats.Files {
		t.Errorf("restored %d files, backed up %d", st.Files, l0.stats.Files)
	}
	requireSameTree(t, src, dst)
}

func TestSingleFileBackup(t *testing.T) {
	dir, dst := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "only.txt")
	mustWrite(t, p, "just me", 0o640)
	settle(t, dir)
	// A clock two seconds ahead puts the snapshot threshold after the
	// ctime settle just gave the file.
	e := New(Options{Now: func() time.Time { return time.Now().Add(2 * time.Second) }})
	l0 := runBackup(t, e, p, nil)
	runRestore(t, e, dst, l0.archive)
	got, err := os.ReadFile(filepath.Join(dst, "only.txt"))
	if err != nil || string(got) != "just me" {
		t.Fatalf("restored single file: %q, %v", got, err)
	}
	fi, _ := os.Stat(filepath.Join(dst, "only.txt"))
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	// Unchanged since the level 0: the next level holds no member.
	l1 := runBackup(t, e, p, l0.state)
	if l1.stats.Files != 0 {
		t.Errorf("unchanged single file saved again: %+v", l1.stats)
	}
}

func TestDryRunListsWithoutWriting(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	buildTree(t, src)
	e := New(Options{})
	l0 := runBackup(t, e, src, nil)
	var listing bytes.Buffer
	if _, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: dst, DryRun: true, List: &listing}, bytes.NewReader(l0.archive)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"./plain.txt", "./sub/deeper/file.bin", "./link-to-plain -> plain.txt", "./plain.txt link to ./hardlink2"} {
		if !strings.Contains(listing.String(), want) {
			t.Errorf("listing lacks %q:\n%s", want, listing.String())
		}
	}
	ents, _ := os.ReadDir(dst)
	if len(ents) != 0 {
		t.Errorf("dry run wrote %d entries", len(ents))
	}
}
