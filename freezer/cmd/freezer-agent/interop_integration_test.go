//go:build integration

package main

// Interop with the upstream Python agent (Debian python3-freezer 13.0) on
// local storage: its 3-level chains restore with ours, ours (gzip, OpenSSL
// format) restore with it. Only the Python program is needed, no service.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/testenv"
)

type fileState struct {
	Type, Content, Target string
	Perm                  fs.FileMode
	MTime                 int64
}

func treeState(t *testing.T, root string) map[string]fileState {
	t.Helper()
	m := map[string]fileState{}
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
		s := fileState{Perm: fi.Mode().Perm()}
		switch {
		case fi.IsDir():
			s.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			s.Type, s.Perm = "symlink", 0
			s.Target, _ = os.Readlink(p)
		default:
			s.Type = "file"
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			s.Content = hex.EncodeToString(h[:])
			s.MTime = fi.ModTime().Unix()
		}
		m[rel] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameState(t *testing.T, what string, want, got map[string]fileState) {
	t.Helper()
	var diffs []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			diffs = append(diffs, "missing "+p)
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: want %+v got %+v", p, w, g))
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

func put(t *testing.T, p, content string, perm fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, perm)
}

// step changes the tree between levels: edits, appends, deletions,
// renames, new empty directories, symlinks.
func step(t *testing.T, src string, n int) {
	j := func(p ...string) string { return filepath.Join(append([]string{src}, p...)...) }
	switch n {
	case 0:
		put(t, j("a.txt"), "alpha\n", 0o644)
		put(t, j("d", "b.txt"), strings.Repeat("bravo ", 3000), 0o644)
		put(t, j("d", "sub", "c.txt"), "charlie", 0o600)
		os.Mkdir(j("empty"), 0o755)
		os.Symlink("a.txt", j("link"))
	case 1:
		put(t, j("a.txt"), "ALPHA\n", 0o644)
		f, _ := os.OpenFile(j("d", "b.txt"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("appended")
		f.Close()
		os.Remove(j("d", "sub", "c.txt"))
		os.Mkdir(j("newdir"), 0o755)
	case 2:
		os.Rename(j("a.txt"), j("a-renamed.txt"))
		os.Remove(j("link"))
		os.Symlink("a-renamed.txt", j("link"))
		os.Remove(j("empty"))
		put(t, j("newdir", "n.txt"), "november", 0o644)
	}
}

func python(t *testing.T, env *testenv.Env, args ...string) {
	t.Helper()
	cmd := exec.Command(env.Get(t, "PYTHON_FREEZER_AGENT"), args...)
	// The Python agent insists on OS_AUTH_URL even for local storage; ours
	// does not (see TestBinaryRoundTripWithoutOpenStackEnv).
	cmd.Env = append(os.Environ(), "OS_AUTH_URL=http://127.0.0.1:1/v3", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python freezer-agent %v: %v\n%s", args, err, out)
	}
}

func ours(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--nosync", "--log-file", filepath.Join(t.TempDir(), "log"))...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("freezer-agent %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func TestInteropPythonChainRestoresWithOurs(t *testing.T) {
	env := testenv.Load(t)
	pass := filepath.Join(t.TempDir(), "pass")
	put(t, pass, "interop secret\n", 0o600)
	for _, comp := range []string{"gzip", "bzip2", "xz"} {
		for _, enc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/encrypted=%v", comp, enc), func(t *testing.T) {
				store, src := t.TempDir(), filepath.Join(t.TempDir(), "src")
				common := []string{"--storage", "local", "--container", store, "--hostname", "h", "--backup-name", "py"}
				var extra []string
				if enc {
					extra = []string{"--encrypt-pass-file", pass}
				}
				var states []map[string]fileState
				for n := 0; n < 3; n++ {
					step(t, src, n)
					time.Sleep(1100 * time.Millisecond) // distinct timestamps and mtimes
					python(t, env, append(append([]string{"--action", "backup", "--mode", "fs", "--path-to-backup", src,
						"--max-level", "3", "--compression", comp}, common...), extra...)...)
					states = append(states, treeState(t, src))
				}
				// The Python agent wrote levels 0, 1, 2.
				for lvl := 0; lvl < 3; lvl++ {
					if m, _ := filepath.Glob(filepath.Join(store, "metadata", "tar", "h_py", "*", fmt.Sprintf("%d_*", lvl), "metadata")); len(m) != 1 {
						t.Fatalf("python chain: level %d metadata %v", lvl, m)
					}
				}
				dst := filepath.Join(t.TempDir(), "dst")
				ours(t, append(append([]string{"--action", "restore", "--restore-abs-path", dst}, common...), extra...)...)
				sameState(t, "python chain restored by ours", states[2], treeState(t, dst))
			})
		}
	}
}

func TestInteropOurChainRestoresWithPython(t *testing.T) {
	env := testenv.Load(t)
	pass := filepath.Join(t.TempDir(), "pass")
	put(t, pass, "interop secret\n", 0o600)
	store, src := t.TempDir(), filepath.Join(t.TempDir(), "src")
	common := []string{"--storage", "local", "--container", store, "--hostname", "h", "--backup-name", "go", "--encrypt-pass-file", pass}
	var state map[string]fileState
	for n := 0; n < 3; n++ {
		step(t, src, n)
		time.Sleep(1100 * time.Millisecond)
		out := ours(t, append([]string{"--action", "backup", "--path-to-backup", src, "--max-level", "3",
			"--compression", "gzip", "--encryption-format", "openssl", "--metadata-out", "-"}, common...)...)
		if !strings.Contains(out, fmt.Sprintf(`"curr_backup_level":%d`, n)) {
			t.Fatalf("level %d backup result %s", n, out)
		}
		state = treeState(t, src)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	python(t, env, append([]string{"--action", "restore", "--restore-abs-path", dst}, common...)...)
	sameState(t, "our chain restored by python", state, treeState(t, dst))
}

// TestInteropMixedChain is a node whose agent is swapped in the middle of
// a chain (same container, backup name and --max-level): the new agent's
// next backup is the next level of the old agent's chain, built on the
// old agent's engine_metadata snapshot, and the mixed chain restores.
func TestInteropMixedChain(t *testing.T) {
	env := testenv.Load(t)
	pass := filepath.Join(t.TempDir(), "pass")
	put(t, pass, "interop secret\n", 0o600)
	level := func(t *testing.T, store string, lvl int) {
		t.Helper()
		if m, _ := filepath.Glob(filepath.Join(store, "metadata", "tar", "h_mix", "*", fmt.Sprintf("%d_*", lvl), "metadata")); len(m) != 1 {
			t.Fatalf("level %d metadata: %v", lvl, m)
		}
	}
	t.Run("python then ours", func(t *testing.T) {
		store, src := t.TempDir(), filepath.Join(t.TempDir(), "src")
		common := []string{"--storage", "local", "--container", store, "--hostname", "h", "--backup-name", "mix",
			"--encrypt-pass-file", pass, "--max-level", "3"}
		step(t, src, 0)
		python(t, env, append([]string{"--action", "backup", "--mode", "fs", "--path-to-backup", src, "--compression", "gzip"}, common...)...)
		for n := 1; n < 3; n++ {
			time.Sleep(1100 * time.Millisecond) // distinct timestamps and mtimes
			step(t, src, n)
			// Our defaults (zstd, fzae1): each level says how it is stored.
			out := ours(t, append([]string{"--action", "backup", "--path-to-backup", src, "--metadata-out", "-"}, common...)...)
			if !strings.Contains(out, fmt.Sprintf(`"curr_backup_level":%d`, n)) {
				t.Fatalf("our backup after the Python level 0 is not level %d: %s", n, out)
			}
		}
		level(t, store, 0)
		level(t, store, 2)
		dst := filepath.Join(t.TempDir(), "dst")
		ours(t, append([]string{"--action", "restore", "--restore-abs-path", dst}, common...)...)
		sameState(t, "python level 0 + our levels 1-2, restored by ours", treeState(t, src), treeState(t, dst))
	})
	t.Run("ours then python", func(t *testing.T) {
		store, src := t.TempDir(), filepath.Join(t.TempDir(), "src")
		common := []string{"--storage", "local", "--container", store, "--hostname", "h", "--backup-name", "mix",
			"--encrypt-pass-file", pass, "--max-level", "3"}
		step(t, src, 0)
		// The format the Python agent reads: gzip, OpenSSL.
		ours(t, append([]string{"--action", "backup", "--path-to-backup", src, "--compression", "gzip", "--encryption-format", "openssl"}, common...)...)
		for n := 1; n < 3; n++ {
			time.Sleep(1100 * time.Millisecond)
			step(t, src, n)
			python(t, env, append([]string{"--action", "backup", "--mode", "fs", "--path-to-backup", src, "--compression", "gzip"}, common...)...)
			level(t, store, n)
		}
		for who, restore := range map[string]func(args ...string){
			"python": func(args ...string) { python(t, env, args...) },
			"ours":   func(args ...string) { ours(t, args...) },
		} {
			dst := filepath.Join(t.TempDir(), "dst-"+who)
			restore(append([]string{"--action", "restore", "--restore-abs-path", dst}, common...)...)
			sameState(t, "our level 0 + python levels 1-2, restored by "+who, treeState(t, src), treeState(t, dst))
		}
	})
}
