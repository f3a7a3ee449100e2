//go:build unix

package tar

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

// stagedArchive holds every kind of name staging handles: files small
// (finisher) and large, a hard link to a file of the same archive and one
// to a file of the target, a symbolic link, and a file where the target
// has a directory.
func stagedArchive(t *testing.T) []byte {
	return craft(t,
		member{name: "./", flag: typeDir, mode: 0o755},
		member{name: "./small", data: "new small"},
		member{name: "./large", data: strings.Repeat("L", 200<<10)},
		member{name: "./hl", flag: typeLink, link: "small"},
		member{name: "./hl-old", flag: typeLink, link: "old"},
		member{name: "./sym", flag: typeSymlink, link: "small"},
		member{name: "./was-dir", data: "a file now"},
	)
}

func prepareStagedTarget(t *testing.T) string {
	dst := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dst, "small"), []byte("old small"), 0o644))
	must(t, os.WriteFile(filepath.Join(dst, "old"), []byte("old"), 0o644))
	must(t, os.MkdirAll(filepath.Join(dst, "was-dir", "sub"), 0o755))
	return dst
}

func listNames(t *testing.T, dir string) []string {
	var names []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		rel, _ := filepath.Rel(dir, p)
		names = append(names, rel)
		return err
	})
	return names
}

// A failed Verify leaves the target as it was: no name of the archive put
// in place, no temporary left, the error naming every member.
func TestStagedRestoreVerifyFails(t *testing.T) {
	for _, workers := range []int{1, 4} {
		dst := prepareStagedTarget(t)
		before := listNames(t, dst)
		bad := errors.New("checksum mismatch")
		_, err := New(Options{RestoreWorkers: workers}).Restore(context.Background(),
			backup.RestoreRequest{Dir: dst, Verify: func() error { return bad }}, bytes.NewReader(stagedArchive(t)))
		var nr *backup.NotRestoredError
		if !errors.Is(err, bad) || !errors.As(err, &nr) || len(nr.Paths) != 6 {
			t.Fatalf("workers %d: err = %v, want the Verify error naming 6 members", workers, err)
		}
		if after := listNames(t, dst); strings.Join(after, " ") != strings.Join(before, " ") {
			t.Errorf("workers %d: target changed: %v, was %v", workers, after, before)
		}
		if b, _ := os.ReadFile(filepath.Join(dst, "small")); string(b) != "old small" {
			t.Errorf("workers %d: small holds %q", workers, b)
		}
	}
}

// With Verify passing, everything is in place: hard links share the
// staged file, a directory in the way is replaced.
func TestStagedRestoreVerifyPasses(t *testing.T) {
	for _, workers := range []int{1, 4} {
		dst := prepareStagedTarget(t)
		_, err := New(Options{RestoreWorkers: workers}).Restore(context.Background(),
			backup.RestoreRequest{Dir: dst, Verify: func() error { return nil }}, bytes.NewReader(stagedArchive(t)))
		must(t, err)
		read := func(p string) string {
			b, err := os.ReadFile(filepath.Join(dst, p))
			must(t, err)
			return string(b)
		}
		for p, want := range map[string]string{"small": "new small", "hl": "new small", "sym": "new small", "hl-old": "old", "was-dir": "a file now"} {
			if got := read(p); got != want {
				t.Errorf("workers %d: %s = %q, want %q", workers, p, got, want)
			}
		}
		if len(read("large")) != 200<<10 {
			t.Errorf("workers %d: large is short", workers)
		}
		a, _ := os.Stat(filepath.Join(dst, "small"))
		b, _ := os.Stat(filepath.Join(dst, "hl"))
		if !os.SameFile(a, b) {
			t.Errorf("workers %d: hl is not a hard link of small", workers)
		}
		for _, n := range listNames(t, dst) {
			if strings.Contains(n, stagePrefix) {
				t.Errorf("workers %d: temporary %s left", workers, n)
			}
		}
	}
}

// Without Verify (an authenticated stream), a file cut short by the
// stream's failure is removed and named.
func TestInPlaceRestoreRemovesCutFile(t *testing.T) {
	arc := stagedArchive(t)
	i := bytes.Index(arc, []byte("LLLL"))
	cut := &failAfter{r: bytes.NewReader(arc), n: i + 100<<10}
	dst := t.TempDir()
	_, err := New(Options{}).Restore(context.Background(), backup.RestoreRequest{Dir: dst}, cut)
	var nr *backup.NotRestoredError
	if !errors.As(err, &nr) || len(nr.Paths) != 1 || nr.Paths[0] != "large" || !nr.Unread {
		t.Fatalf("err = %v, want one naming large and what follows", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "large")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("large left in place: %v", err)
	}
}

type failAfter struct {
	r *bytes.Reader
	n int
}

var errStream = errors.New("authentication failed")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errStream
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}
