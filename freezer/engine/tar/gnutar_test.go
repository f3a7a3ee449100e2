//go:build unix

package tar

import (
	"bytes"
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
func gnuBackup(t *testing.T, src, snap string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "level.tar")
	runGNU(t, src, "--create", "--warning=none", "--no-check-device", "--one-file-system",
		"--preserve-permissions", "--same-owner", "--seek", "--ignore-failed-read",
		"--listed-incremental="+snap, "-f", out, ".")
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

func TestGNUIncrementalLevelsRestoreWithOurs(t *testing.T) {
	requireGNUTar(t)
	src, ours, theirs := t.TempDir(), t.TempDir(), t.TempDir()
	buildTree(t, src)
	snap := filepath.Join(t.TempDir(), "snap")
	e := New(Options{})
	for step := 0; step <= 3; step++ {
		if step > 0 {
			mutate(t, src, step)
		}
		arc := gnuBackup(t, src, snap)
		if step == 1 && !bytes.Contains(arc, []byte("R./sub/deeper\x00T./sub/deeper2\x00")) {
			t.Fatal("GNU tar did not record the directory rename this test is about")
		}
		runRestore(t, e, ours, arc)
		gnuRestore(t, theirs, arc)
		requireSameTree(t, theirs, ours)
		requireSameTree(t, src, ours)
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
