//go:build unix

package tar

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gnuTar is the real GNU tar these interop tests compare against.
const gnuTar = "/usr/bin/tar"

func requireGNUTar(t *testing.T) {
	t.Helper()
	out, err := exec.Command(gnuTar, "--version").Output()
	if err != nil || !bytes.Contains(out, []byte("GNU tar")) {
		t.Fatalf("these interop tests need GNU tar at %s: %v", gnuTar, err)
	}
}

func runGNU(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gnuTar, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tar %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	must(t, os.WriteFile(p, data, 0o600))
	return p
}

func TestGNUTarListsOurArchive(t *testing.T) {
	requireGNUTar(t)
	src := t.TempDir()
	buildTree(t, src)
	l0 := runBackup(t, New(Options{}), src, nil)
	arc := writeTemp(t, "l0.tar", l0.archive)
	listing := runGNU(t, "", "-tvf", arc)
	for _, want := range []string{
		" ./\n", " ./hardlink2\n", " ./link-to-plain -> plain.txt\n", " ./emptydir/\n",
		" ./sub/hardlink-to-plain link to ./hardlink2\n", "/file-with-a-long-path\n",
		"./nonutf8-\\377\\376-name\n",
	} {
		if !strings.Contains(listing, want) {
			t.Errorf("tar -tvf output lacks %q:\n%s", want, listing)
		}
	}
	// GNU tar's incremental listing shows our dumpdirs.
	inc := runGNU(t, "", "--list", "--incremental", "-v", "-v", "-f", arc)
	if !strings.Contains(inc, "D sub\n") || !strings.Contains(inc, "Y plain.txt\n") {
		t.Errorf("tar --list --incremental does not show the dumpdir:\n%s", inc)
	}
}

func TestGNUTarAcceptsOurSnapshot(t *testing.T) {
	requireGNUTar(t)
	src := t.TempDir()
	buildTree(t, src)
	// A clock ahead of the files' ctimes (set just now by settle) makes
	// the whole tree older than the snapshot threshold.
	l0 := runBackup(t, New(Options{Now: func() time.Time { return time.Now().Add(2 * time.Second) }}), src, nil)
	snap := writeTemp(t, "snap", l0.state)
	out := filepath.Join(t.TempDir(), "l1.tar")
	cmd := exec.Command(gnuTar, "--create", "--no-check-device", "--one-file-system",
		"--listed-incremental="+snap, "-f", out, ".")
	cmd.Dir = src
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("GNU tar rejected our snapshot: %v\n%s", err, msg)
	}
	// Nothing changed, so GNU tar saves no file, only directories.
	listing := runGNU(t, "", "-tf", out)
	for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
		if !strings.HasSuffix(line, "/") {
			t.Errorf("GNU tar saved %q again although our snapshot says it is unchanged", line)
		}
	}
	// And the snapshot it rewrote still parses.
	data, err := os.ReadFile(snap)
	must(t, err)
	if _, err := readSnapshot(bytes.NewReader(data)); err != nil {
		t.Fatalf("cannot read GNU tar's rewrite of our snapshot: %v", err)
	}
}

// gnuBackup runs GNU tar the way the upstream agent does and returns the
// archive; snap is updated in place.
func gnuBackup(t *testing.T, src, snap string, extra ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "level.tar")
	args := append([]string{"--create", "--warning=none", "--no-check-device", "--one-file-system",
		"--preserve-permissions", "--same-owner", "--seek", "--ignore-failed-read",
		"--listed-incremental=" + snap, "-f", out}, extra...)
	runGNU(t, src, append(args, ".")...)
	data, err := os.ReadFile(out)
	must(t, err)
	// GNU tar stamps its snapshot with its start time and has no margin:
	// keep the next edits clearly after it.
	time.Sleep(30 * time.Millisecond)
	return data
}

func gnuRestore(t *testing.T, dir string, archive []byte) {
	t.Helper()
	arc := writeTemp(t, "level.tar", archive)
	runGNU(t, "", "--extract", "--incremental", "--ignore-zeros", "--warning=none", "--overwrite",
		"--directory", dir, "-f", arc)
}

// gnuRestoreErr is gnuRestore returning GNU tar's failure instead of
// failing the test.
func gnuRestoreErr(dir string, archive []byte) error {
	f, err := os.CreateTemp("", "level-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(archive); err != nil {
		f.Close()
		return err
	}
	f.Close()
	cmd := exec.Command(gnuTar, "--extract", "--incremental", "--ignore-zeros", "--warning=none", "--overwrite",
		"--directory", dir, "-f", f.Name())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

func TestGNUIncrementalLevelsRestoreWithOurs(t *testing.T) {
	requireGNUTar(t)
	// gnu is the format the upstream agent writes; in the posix format GNU
	// tar keeps the dumpdirs in PAX records instead of 'D' members.
	for _, format := range []string{"gnu", "posix"} {
		t.Run(format, func(t *testing.T) {
			src, ours, theirs := t.TempDir(), t.TempDir(), t.TempDir()
			buildTree(t, src)
			snap := filepath.Join(t.TempDir(), "snap")
			e := New(Options{})
			gnuBroken := false
			for step := 0; step <= 3; step++ {
				if step > 0 {
					mutate(t, src, step)
				}
				arc := gnuBackup(t, src, snap, "--format="+format)
				if step == 1 && !bytes.Contains(arc, []byte("R./sub/deeper\x00T./sub/deeper2\x00")) {
					t.Fatal("GNU tar did not record the directory rename this test is about")
				}
				runRestore(t, e, ours, arc)
				requireSameTree(t, src, ours)
				if gnuBroken {
					continue
				}
				// GNU tar 1.34 sometimes cannot apply its own rename
				// records ("Cannot rename ./emptydir to ./empty: Not a
				// directory"), depending on readdir order. Then only the
				// source is the reference for the rest of this chain;
				// ours must still match it.
				if err := gnuRestoreErr(theirs, arc); err != nil {
					t.Logf("GNU tar failed on its own level %d, compared with the source only: %v", step, err)
					gnuBroken = true
					continue
				}
				requireSameTree(t, theirs, ours)
			}
		})
	}
}

func TestOurIncrementalLevelsRestoreWithGNU(t *testing.T) {
	requireGNUTar(t)
	src, theirs := t.TempDir(), t.TempDir()
	buildTree(t, src)
	// GNU tar --overwrite drops the setgid bit of a file it rewrites in
	// place; let settle's ctimes age past the snapshot margin so that the
	// unchanged setgid file is not sent again in level 1.
	time.Sleep(snapshotMargin + 100*time.Millisecond)
	e := New(Options{})
	var prev []byte
	for step := 0; step <= chainSteps; step++ {
		if step > 0 {
			mutate(t, src, step)
		}
		l := runBackup(t, e, src, prev)
		prev = l.state
		gnuRestore(t, theirs, l.archive)
		requireSameTree(t, src, theirs)
	}
}

func TestGNUContinuesOurChain(t *testing.T) {
	requireGNUTar(t)
	src, dst := t.TempDir(), t.TempDir()
	buildTree(t, src)
	e := New(Options{})
	l0 := runBackup(t, e, src, nil)
	snap := writeTemp(t, "snap", l0.state)
	mutate(t, src, 1)
	g1 := gnuBackup(t, src, snap)
	mutate(t, src, 2)
	next, err := os.ReadFile(snap)
	must(t, err)
	l2 := runBackup(t, e, src, next) // and we continue GNU tar's snapshot
	for _, arc := range [][]byte{l0.archive, g1, l2.archive} {
		runRestore(t, e, dst, arc)
	}
	requireSameTree(t, src, dst)
}

// memberTypes maps the member names of an archive to their type flags.
func memberTypes(t *testing.T, archive []byte) map[string]byte {
	t.Helper()
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

// --exclude and --dereference-symlink select the same members, of the
// same types, as GNU tar run with the flags upstream passes.
func TestExcludeAndDereferenceLikeGNU(t *testing.T) {
	requireGNUTar(t)
	src := t.TempDir()
	for _, p := range []string{"keep.txt", "drop.log", "sub/deep.log", "sub/keep2", "cache/big", "sub/cache/x",
		"sub/x1", "sub/y1", "a.tmp", "c.tmp", "real/f", "dir with space/file.log", "dir with space/k"} {
		mustWrite(t, filepath.Join(src, p), p, 0o644)
	}
	must(t, os.Symlink("real", filepath.Join(src, "dirlink")))
	must(t, os.Symlink("real/f", filepath.Join(src, "filelink")))
	must(t, os.Link(filepath.Join(src, "real", "f"), filepath.Join(src, "hard")))
	settle(t, src)
	cases := []struct {
		exclude []string
		deref   string
		flags   []string
	}{
		{exclude: []string{"*.log"}},
		{exclude: []string{"cache"}},
		{exclude: []string{"sub/x*"}},
		{exclude: []string{"[ab]*.tmp"}},
		{exclude: []string{"./sub"}},
		{exclude: []string{"dir with space"}},
		{deref: "soft", flags: []string{"--dereference"}},
		{deref: "hard", flags: []string{"--hard-dereference"}},
		{deref: "all", flags: []string{"--hard-dereference", "--dereference"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(append(c.exclude, c.deref), ","), func(t *testing.T) {
			flags := c.flags
			for _, x := range c.exclude {
				flags = append(flags, "--exclude="+x)
			}
			theirs := memberTypes(t, gnuBackup(t, src, filepath.Join(t.TempDir(), "snap"), flags...))
			ours := memberTypes(t, runBackup(t, New(Options{}), src, nil, func(r *backupRequest) {
				r.Exclude, r.Dereference = c.exclude, c.deref
			}).archive)
			if fmt.Sprint(theirs) != fmt.Sprint(ours) {
				t.Errorf("members differ:\n GNU tar %q\n ours    %q", theirs, ours)
			}
		})
	}
}

// Like "gnutar --ignore-zeros", which upstream restores with, a stream of
// concatenated archives restores all of them; garbage after the end does
// not pass silently.
func TestConcatenatedArchives(t *testing.T) {
	requireGNUTar(t)
	first := craft(t, member{name: "./a", data: "first"})
	second := craft(t, member{name: "./b", data: "second"}, member{name: "./a", data: "overwritten"})
	stream := append(bytes.Clone(first), second...)
	ours, theirs := t.TempDir(), t.TempDir()
	runRestore(t, New(Options{}), ours, stream)
	gnuRestore(t, theirs, stream)
	// No member stands for the target itself, so its mtime is when each
	// restore last changed it, seconds apart if a second ticked between
	// the two: only what the archive holds is compared.
	top := time.Unix(1600000000, 0)
	must(t, os.Chtimes(ours, top, top))
	must(t, os.Chtimes(theirs, top, top))
	requireSameTree(t, theirs, ours)
	if got, _ := os.ReadFile(filepath.Join(ours, "a")); string(got) != "overwritten" {
		t.Errorf("a = %q", got)
	}
	for _, tail := range [][]byte{[]byte("junk"), bytes.Repeat([]byte{1}, 512), append(make([]byte, 700), 'x')} {
		if err := restoreErr(New(Options{}), t.TempDir(), append(bytes.Clone(first), tail...)); err == nil {
			t.Errorf("archive followed by %d bytes of garbage restored without error", len(tail))
		}
	}
	// Zero padding of any length is fine.
	runRestore(t, New(Options{}), t.TempDir(), append(bytes.Clone(first), make([]byte, 777)...))
}
