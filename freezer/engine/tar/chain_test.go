//go:build unix

package tar

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// mutate applies the edits of one step of a chain to the tree built by
// buildTree: edits, appends, deletions, renames of files and directories,
// new empty directories, symlink and hard-link changes, type changes.
func mutate(t *testing.T, root string, step int) {
	t.Helper()
	p := func(s string) string { return filepath.Join(root, s) }
	switch step {
	case 1:
		f, err := os.OpenFile(p("sub/deeper/file.bin"), os.O_APPEND|os.O_WRONLY, 0)
		must(t, err)
		_, err = f.WriteString("appended tail")
		must(t, err)
		must(t, f.Close())
		// In place, so all three names of this inode change.
		must(t, os.WriteFile(p("plain.txt"), []byte("hello again, longer now\n"), 0o644))
		must(t, os.Remove(p("secret")))
		must(t, os.Rename(p("sub/deeper"), p("sub/deeper2")))
		must(t, os.Rename(p("run.sh"), p("run2.sh")))
		must(t, os.Mkdir(p("newempty"), 0o750))
		must(t, os.Symlink("sub/deeper2/file.bin", p("newlink")))
		must(t, os.Chmod(p("private/p"), 0o640))
		must(t, os.Remove(p("emptydir")))
		must(t, os.Remove(p("empty")))
		mustWrite(t, p("empty/now-a-dir-file"), "inside", 0o600)
		must(t, os.Remove(p("link-to-plain")))
		must(t, os.Symlink("run2.sh", p("link-to-plain")))
	case 2:
		must(t, os.Remove(p("sub/hardlink-to-plain")))
		must(t, os.Mkdir(p("e2"), 0o700))
		mustWrite(t, p("newempty/a"), "pair", 0o644)
		must(t, os.Link(p("newempty/a"), p("newempty/b")))
		mustWrite(t, p("x/y/z/leaf"), "leaf", 0o644)
		must(t, os.Truncate(p("sub/deeper2/file.bin"), 10))
		must(t, os.RemoveAll(p("empty")))
		mustWrite(t, p("empty"), "a file again", 0o644)
		must(t, os.WriteFile(p("nonutf8-\xff\xfe-name"), []byte("changed"), 0o644))
	case 3:
		must(t, os.RemoveAll(p(strings.Repeat("long-component-", 8))))
		must(t, os.Rename(p("x"), p("x-renamed")))
		deep := filepath.Join(strings.Repeat("d", 200), strings.Repeat("e", 200))
		mustWrite(t, p(filepath.Join(deep, strings.Repeat("f", 250))), "very long path", 0o644)
		must(t, os.Remove(p("newlink")))
		must(t, os.Chmod(p("sub"), 0o711))
	case 4:
		must(t, os.RemoveAll(p("x-renamed/y")))
		mustWrite(t, p("x-renamed/new"), "n", 0o644)
		must(t, os.Remove(p("newempty/a")))
	}
}

const chainSteps = 4

// members returns the names of the non-directory members of an archive.
func members(t *testing.T, archive []byte) []string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		if h.Typeflag != typeDumpDir && h.Typeflag != tar.TypeDir {
			names = append(names, h.Name)
		}
	}
	sort.Strings(names)
	return names
}

func TestIncrementalChainRoundTrip(t *testing.T) {
	src, incr := t.TempDir(), t.TempDir()
	buildTree(t, src)
	// Let the ctimes settle gave the tree fall out of the snapshot margin,
	// so that level 1 holds exactly what step 1 changed.
	time.Sleep(snapshotMargin + 100*time.Millisecond)
	e := New(Options{})
	levels := []level{runBackup(t, e, src, nil)}
	runRestore(t, e, incr, levels[0].archive)
	requireSameTree(t, src, incr)
	for step := 1; step <= chainSteps; step++ {
		mutate(t, src, step)
		l := runBackup(t, e, src, levels[len(levels)-1].state)
		levels = append(levels, l)
		if step == 1 {
			got := strings.Join(members(t, l.archive), " ")
			want := "./empty/now-a-dir-file ./hardlink2 ./link-to-plain ./newlink ./plain.txt ./private/p ./run2.sh ./sub/deeper2/file.bin ./sub/hardlink-to-plain"
			if got != want {
				t.Errorf("level 1 members:\n got %s\nwant %s", got, want)
			}
		}
		st := runRestore(t, e, incr, l.archive)
		requireSameTree(t, src, incr)
		if step == 1 && st.Deleted == 0 {
			t.Errorf("level 1 restore deleted nothing: %+v", st)
		}
	}
	// The whole chain into a fresh directory gives the same tree.
	fresh := t.TempDir()
	for _, l := range levels {
		runRestore(t, e, fresh, l.archive)
	}
	requireSameTree(t, src, fresh)
}

func TestIncrementalUnchangedTreeIsEmpty(t *testing.T) {
	src := t.TempDir()
	buildTree(t, src)
	e := New(Options{Now: func() time.Time { return time.Now().Add(2 * time.Second) }})
	l0 := runBackup(t, e, src, nil)
	l1 := runBackup(t, e, src, l0.state)
	if m := members(t, l1.archive); len(m) != 0 {
		t.Fatalf("level 1 of an unchanged tree holds %q", m)
	}
	if l1.stats.Dirs != l0.stats.Dirs {
		t.Errorf("level 1 has %d directory members, level 0 %d: every directory needs its dumpdir", l1.stats.Dirs, l0.stats.Dirs)
	}
}

func TestExcludePatterns(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	mustWrite(t, filepath.Join(src, "keep.txt"), "k", 0o644)
	mustWrite(t, filepath.Join(src, "drop.log"), "d", 0o644)
	mustWrite(t, filepath.Join(src, "sub", "deep.log"), "d", 0o644)
	mustWrite(t, filepath.Join(src, "cache", "big"), "d", 0o644)
	mustWrite(t, filepath.Join(src, "sub", "cache", "keep-not"), "d", 0o644)
	mustWrite(t, filepath.Join(src, "sub", "keep2"), "k", 0o644)
	e := New(Options{})
	l0 := runBackup(t, e, src, nil, func(r *backupRequest) { r.Exclude = []string{"*.log", "cache"} })
	got := strings.Join(members(t, l0.archive), " ")
	if got != "./keep.txt ./sub/keep2" {
		t.Fatalf("members with excludes: %s", got)
	}
	// Excluded entries are listed as unchanged ('N'), so a restore over an
	// existing tree keeps them, as GNU tar does.
	mustWrite(t, filepath.Join(dst, "drop.log"), "old", 0o644)
	runRestore(t, e, dst, l0.archive)
	if _, err := os.Stat(filepath.Join(dst, "drop.log")); err != nil {
		t.Errorf("excluded file present in the target was removed: %v", err)
	}
}

func TestDereference(t *testing.T) {
	src := t.TempDir()
	mustWrite(t, filepath.Join(src, "real", "f"), "data", 0o644)
	must(t, os.Symlink("real", filepath.Join(src, "dirlink")))
	must(t, os.Symlink("real/f", filepath.Join(src, "filelink")))
	must(t, os.Link(filepath.Join(src, "real", "f"), filepath.Join(src, "hard")))
	must(t, os.Symlink(".", filepath.Join(src, "real", "loop")))
	e := New(Options{})
	kinds := func(archive []byte) map[string]byte {
		m := map[string]byte{}
		tr := tar.NewReader(bytes.NewReader(archive))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return m
			}
			must(t, err)
			m[h.Name] = h.Typeflag
		}
	}
	plain := kinds(runBackup(t, e, src, nil).archive)
	if plain["./dirlink"] != tar.TypeSymlink || plain["./filelink"] != tar.TypeSymlink || plain["./real/f"] != tar.TypeLink {
		t.Errorf("without dereference: %q", plain)
	}
	soft := runBackup(t, e, src, nil, func(r *backupRequest) { r.Dereference = "soft" })
	sk := kinds(soft.archive)
	if sk["./dirlink/"] != typeDumpDir || sk["./filelink"] != tar.TypeReg {
		t.Errorf("soft dereference: %q", sk)
	}
	if len(soft.stats.Warnings) == 0 {
		t.Errorf("symlink loop gave no warning")
	}
	hk := kinds(runBackup(t, e, src, nil, func(r *backupRequest) { r.Dereference = "hard" }).archive)
	if hk["./hard"] != tar.TypeReg || hk["./real/f"] != tar.TypeReg || hk["./dirlink"] != tar.TypeSymlink {
		t.Errorf("hard dereference: %q", hk)
	}
	var out, state bytes.Buffer
	if _, err := e.Backup(t.Context(), backupRequest{Path: src, State: &state, Dereference: "bogus"}, &out); err == nil {
		t.Error("unknown dereference mode accepted")
	}
}

func TestSpecialFilesSkippedWithWarning(t *testing.T) {
	src := t.TempDir()
	mustWrite(t, filepath.Join(src, "f"), "x", 0o644)
	must(t, mkfifo(filepath.Join(src, "fifo")))
	l := runBackup(t, New(Options{}), src, nil)
	if got := strings.Join(members(t, l.archive), " "); got != "./f" {
		t.Errorf("members: %s", got)
	}
	if len(l.stats.Warnings) != 1 || !strings.Contains(l.stats.Warnings[0], "fifo") {
		t.Errorf("warnings: %q", l.stats.Warnings)
	}
}

var _ = fs.ModeDir
