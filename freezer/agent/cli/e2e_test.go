package cli

// End-to-end tests: the whole command line with this build's real tar
// engine, codecs and local storage, on real trees in temp directories.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// harness runs the agent in-process against one local store with a clock
// that moves 100 s per run, so every backup gets its own timestamp.
type harness struct {
	t     *testing.T
	store string
	now   time.Time
	base  []string
}

func newHarness(t *testing.T, extra ...string) *harness {
	store := filepath.Join(t.TempDir(), "store")
	return &harness{
		t:     t,
		store: store,
		now:   time.Now().Truncate(time.Second).Add(-1000 * time.Hour),
		base:  append([]string{"--nosync", "--storage", "local", "--container", store, "--hostname", "h", "--backup-name", "b"}, extra...),
	}
}

func (h *harness) run(args ...string) (int, string, string) {
	h.t.Helper()
	return h.runCtx(context.Background(), args...)
}

func (h *harness) runCtx(ctx context.Context, args ...string) (int, string, string) {
	h.t.Helper()
	h.now = h.now.Add(100 * time.Second)
	now := h.now
	var out, errb bytes.Buffer
	logger := logrus.New()
	logger.SetOutput(&bytes.Buffer{})
	code := Run(ctx, Env{
		Args:   append(append([]string{}, h.base...), args...),
		Stdout: &out, Stderr: &errb, Getenv: os.Getenv, Log: logger,
		Now:  func() time.Time { return now },
		Deps: DefaultDeps(),
	})
	return code, out.String(), errb.String()
}

// backup runs a backup and returns its result JSON.
func (h *harness) backup(src string, args ...string) map[string]any {
	h.t.Helper()
	code, out, errOut := h.run(append([]string{"--action", "backup", "--path-to-backup", src, "--metadata-out", "-"}, args...)...)
	if code != 0 {
		h.t.Fatalf("backup exit %d: %s", code, errOut)
	}
	if errOut != "" {
		// Upstream's scheduler takes any stderr output for a failed run
		// and then does not upload the backup's metadata.
		h.t.Fatalf("a successful backup with --metadata-out - wrote to stderr: %q", errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		h.t.Fatalf("result JSON %q: %v", out, err)
	}
	return m
}

func (h *harness) restore(dst string, args ...string) {
	h.t.Helper()
	code, _, errOut := h.run(append([]string{"--action", "restore", "--restore-abs-path", dst}, args...)...)
	if code != 0 {
		h.t.Fatalf("restore exit %d: %s", code, errOut)
	}
}

// entry is what the tests compare of one file system entry.
type entry struct {
	Type    string
	Perm    fs.FileMode
	Content string // sha256 of a file's content
	Target  string // symlink target
	MTime   int64  // seconds, files and directories
	Link    string // for hard links: the first path (sorted) of the group
}

func manifest(t *testing.T, root string) map[string]entry {
	t.Helper()
	m := map[string]entry{}
	type ino struct{ dev, ino uint64 }
	groups := map[ino][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := entry{Perm: fi.Mode().Perm()}
		switch {
		case fi.IsDir():
			e.Type = "dir"
			e.MTime = fi.ModTime().Unix()
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Type = "symlink"
			e.Perm = 0
			e.Target, _ = os.Readlink(p)
		case fi.Mode().IsRegular():
			e.Type = "file"
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			e.Content = hex.EncodeToString(s[:])
			e.MTime = fi.ModTime().Unix()
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
				k := ino{uint64(st.Dev), uint64(st.Ino)}
				groups[k] = append(groups[k], rel)
			}
		default:
			e.Type = "other"
		}
		m[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, paths := range groups {
		if len(paths) < 2 {
			continue
		}
		sort.Strings(paths)
		for _, p := range paths {
			e := m[p]
			e.Link = paths[0]
			m[p] = e
		}
	}
	return m
}

func sameTree(t *testing.T, what string, want, got map[string]entry) {
	t.Helper()
	var diffs []string
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			diffs = append(diffs, "missing "+p)
			continue
		}
		if w != g {
			diffs = append(diffs, fmt.Sprintf("%s: want %+v, got %+v", p, w, g))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, "extra "+p)
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Fatalf("%s: trees differ:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

func write(t *testing.T, p string, data []byte, perm fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mutations build a tree (step 0) and change it between levels: edits,
// appends, deletions, renames (of files and a directory), new empty dirs,
// symlinks, hard links, mode changes, long and non-UTF-8 names.
func mutate(t *testing.T, src string, step int) {
	j := func(p ...string) string { return filepath.Join(append([]string{src}, p...)...) }
	switch step {
	case 0:
		write(t, j("a.txt"), []byte("hello freezer\n"), 0o644)
		write(t, j("dir1", "b.bin"), randBytes(1, 200<<10), 0o644)
		write(t, j("dir1", "sub", "c.txt"), bytes.Repeat([]byte("compressible "), 5000), 0o644)
		write(t, j("secret"), []byte("only me"), 0o600)
		write(t, j("tool"), []byte("#!/bin/sh\necho hi\n"), 0o755)
		write(t, j("hard1"), []byte("linked content"), 0o644)
		must(t, os.Mkdir(j("sub2"), 0o755))
		must(t, os.Link(j("hard1"), j("sub2", "hard2")))
		must(t, os.Mkdir(j("empty"), 0o755))
		must(t, os.Symlink("a.txt", j("link")))
	case 1:
		write(t, j("a.txt"), []byte("HELLO FREEZER\n"), 0o644) // same size, new content
		f, err := os.OpenFile(j("dir1", "b.bin"), os.O_APPEND|os.O_WRONLY, 0)
		must(t, err)
		_, err = f.Write(randBytes(2, 50<<10))
		must(t, err)
		must(t, f.Close())
		must(t, os.Remove(j("dir1", "sub", "c.txt")))
		must(t, os.Rename(j("tool"), j("tool2")))
		must(t, os.Mkdir(j("newdir"), 0o750))
		must(t, os.Symlink("../a.txt", j("dir1", "l2")))
		must(t, os.Link(j("hard1"), j("hard3")))
	case 2:
		must(t, os.Remove(j("empty")))
		must(t, os.Rename(j("dir1"), j("dir1r")))
		write(t, j("secret"), []byte("only me, changed"), 0o640)
		write(t, j("newdir", "n.txt"), []byte("new"), 0o644)
		must(t, os.Remove(j("link")))
		must(t, os.Symlink("dir1r/b.bin", j("link")))
	case 3:
		must(t, os.Remove(j("hard1")))
		must(t, os.Truncate(j("a.txt"), 0))
		must(t, os.MkdirAll(j("deep", "x", "y"), 0o755))
		write(t, j(strings.Repeat("long-name-", 20)+".txt"), []byte("long"), 0o644)
		write(t, j("latin1-\xe9t\xe9.txt"), []byte("not utf-8"), 0o644)
		must(t, os.RemoveAll(j("dir1r", "sub")))
	}
}

// TestRoundTripChains backs up a tree through a 4-level chain (0..3) for
// every compression × encryption, restores the newest state after each
// level and every level's state by date at the end, and compares the
// restored trees with the source exactly.
func TestRoundTripChains(t *testing.T) {
	pass := filepath.Join(t.TempDir(), "pass")
	must(t, os.WriteFile(pass, []byte("correct horse battery staple\nsecond line is ignored\n"), 0o600))
	encs := map[string][]string{
		"plain":   nil,
		"openssl": {"--encrypt-pass-file", pass, "--encryption-format", "openssl"},
		"fzae1":   {"--encrypt-pass-file", pass},
	}
	for _, comp := range []string{"gzip", "bzip2", "xz", "zstd", "none"} {
		for encName, encArgs := range encs {
			t.Run(comp+"/"+encName, func(t *testing.T) {
				if raceEnabled && (comp == "bzip2" || comp == "xz") && encName != "plain" {
					// 20x slower under the race detector; the full matrix
					// runs in the non-race integration run.
					t.Skip("race build: bzip2/xz with encryption run without -race")
				}
				h := newHarness(t, "--max-level", "5")
				src := filepath.Join(t.TempDir(), "src")
				must(t, os.Mkdir(src, 0o755))
				var states []map[string]entry
				var stamps []int64
				for level := 0; level <= 3; level++ {
					mutate(t, src, level)
					m := h.backup(src, append([]string{"--compression", comp}, encArgs...)...)
					if got := m["curr_backup_level"]; got != float64(level) {
						t.Fatalf("level %d backup reports curr_backup_level %v", level, got)
					}
					if m["compression"] != comp || m["encrypted"] != (encArgs != nil) {
						t.Fatalf("result %v", m)
					}
					states = append(states, manifest(t, src))
					stamps = append(stamps, int64(m["time_stamp"].(float64)))
				}
				// The newest state, then every level's state by date. The
				// codecs come from the metadata: restore gets no --compression.
				dst := filepath.Join(t.TempDir(), "dst")
				h.restore(dst, encArgs...)
				sameTree(t, "newest", states[3], manifest(t, dst))
				for level, ts := range stamps[:3] {
					dst := filepath.Join(t.TempDir(), "dst")
					date := time.Unix(ts, 0).UTC().Format("2006-01-02T15:04:05")
					h.restore(dst, append([]string{"--restore-from-date", date}, encArgs...)...)
					sameTree(t, fmt.Sprintf("state of level %d by date", level), states[level], manifest(t, dst))
				}
			})
		}
	}
}

// TestIncrementalLevelsHoldOnlyChanges waits out the engine's change-time
// margin between levels, so each level archives only what changed since
// the previous one; a restore then needs every level, in order, and a
// wrong restore plan shows up as a wrong tree.
func TestIncrementalLevelsHoldOnlyChanges(t *testing.T) {
	h := newHarness(t, "--incremental")
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	var sizes []float64
	var states []map[string]entry
	var stamps []int64
	for level := 0; level <= 3; level++ {
		mutate(t, src, level)
		if level == 0 {
			write(t, filepath.Join(src, "bulk"), randBytes(9, 2<<20), 0o644) // never changes
		}
		// A change within a second of a backup's start is archived again
		// by the next level (the engine's safety margin): wait it out.
		time.Sleep(1100 * time.Millisecond)
		m := h.backup(src)
		if m["curr_backup_level"] != float64(level) {
			t.Fatalf("level %v, want %d", m["curr_backup_level"], level)
		}
		sizes = append(sizes, m["data_size"].(float64))
		states = append(states, manifest(t, src))
		stamps = append(stamps, int64(m["time_stamp"].(float64)))
	}
	for level := 1; level <= 3; level++ {
		if sizes[level] > sizes[0]/4 {
			t.Errorf("level %d stored %v bytes, level 0 %v: not incremental", level, sizes[level], sizes[0])
		}
	}
	for level, ts := range stamps {
		dst := filepath.Join(t.TempDir(), "dst")
		h.restore(dst, "--restore-from-date", time.Unix(ts, 0).UTC().Format(time.RFC3339))
		sameTree(t, fmt.Sprintf("level %d", level), states[level], manifest(t, dst))
	}
}

// TestHardLinkAcrossRenamedDirectory: a directory renamed between levels,
// holding a hard link to a file outside it that did not change. GNU tar
// records the rename in its snapshot and keeps the link; the native engine
// re-archives the renamed directory's files, and a file whose link partner
// is not in the same archive is stored (and restored) as a separate copy.
func TestHardLinkAcrossRenamedDirectory(t *testing.T) {
	h := newHarness(t, "--incremental")
	src := filepath.Join(t.TempDir(), "src")
	write(t, filepath.Join(src, "hard1"), []byte("x"), 0o644)
	must(t, os.Mkdir(filepath.Join(src, "d"), 0o755))
	must(t, os.Link(filepath.Join(src, "hard1"), filepath.Join(src, "d", "hard2")))
	time.Sleep(1100 * time.Millisecond)
	h.backup(src)
	must(t, os.Rename(filepath.Join(src, "d"), filepath.Join(src, "d2")))
	time.Sleep(1100 * time.Millisecond)
	h.backup(src)
	dst := filepath.Join(t.TempDir(), "dst")
	h.restore(dst)
	sameTree(t, "renamed dir with a hard link", manifest(t, src), manifest(t, dst))
}
