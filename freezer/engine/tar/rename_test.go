//go:build unix

package tar

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A renamed directory is recorded as a rename (as GNU tar does): its
// unchanged files are not saved again, and both our restore and GNU tar's
// move it into place.
func TestRenamedDirectoriesAreNotResent(t *testing.T) {
	requireGNUTar(t)
	src, ours, theirs := t.TempDir(), t.TempDir(), t.TempDir()
	for i := range 5 {
		mustWrite(t, filepath.Join(src, "a", "c", "f"+string(rune('0'+i))), strings.Repeat("x", 1000*i), 0o644)
		mustWrite(t, filepath.Join(src, "a", "g"+string(rune('0'+i))), "g", 0o644)
		mustWrite(t, filepath.Join(src, "p", "q", "h"+string(rune('0'+i))), "h", 0o644)
	}
	mustWrite(t, filepath.Join(src, "stay", "s"), "s", 0o644)
	settle(t, src)
	time.Sleep(snapshotMargin + 100*time.Millisecond)
	e := New(Options{})
	l0 := runBackup(t, e, src, nil)
	runRestore(t, e, ours, l0.archive)
	gnuRestore(t, theirs, l0.archive)

	// Nested renames, a move into a new parent, a swap-free chain, and a
	// new directory where a renamed one used to be.
	must(t, os.Rename(filepath.Join(src, "a"), filepath.Join(src, "b")))
	must(t, os.Rename(filepath.Join(src, "b", "c"), filepath.Join(src, "b", "d")))
	must(t, os.MkdirAll(filepath.Join(src, "new", "deep"), 0o755))
	must(t, os.Rename(filepath.Join(src, "p", "q"), filepath.Join(src, "new", "deep", "q2")))
	mustWrite(t, filepath.Join(src, "a", "fresh"), "fresh", 0o644)
	mustWrite(t, filepath.Join(src, "b", "d", "added"), "added", 0o644)
	time.Sleep(snapshotMargin + 100*time.Millisecond)

	l1 := runBackup(t, e, src, l0.state)
	got := strings.Join(members(t, l1.archive), " ")
	if got != "./a/fresh ./b/d/added" {
		t.Errorf("level 1 members: %s (renamed directories were saved again)", got)
	}
	for _, rec := range []string{"R./a\x00T./b\x00", "R./b/c\x00T./b/d\x00", "R./p/q\x00T./new/deep/q2\x00"} {
		if !bytes.Contains(l1.archive, []byte(rec)) {
			t.Errorf("level 1 lacks the rename record %q", rec)
		}
	}
	runRestore(t, e, ours, l1.archive)
	requireSameTree(t, src, ours)
	gnuRestore(t, theirs, l1.archive)
	requireSameTree(t, src, theirs)

	// The next level starts from the renamed names.
	mustWrite(t, filepath.Join(src, "b", "d", "f1"), "edited", 0o644)
	l2 := runBackup(t, e, src, l1.state)
	if got := strings.Join(members(t, l2.archive), " "); got != "./b/d/f1" {
		t.Errorf("level 2 members: %s", got)
	}
	runRestore(t, e, ours, l2.archive)
	requireSameTree(t, src, ours)
}
