//go:build unix

package tar

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// node is what the tree comparison looks at for one path.
type node struct {
	kind   string // "dir", "file", "symlink"
	mode   fs.FileMode
	mtime  int64 // seconds: the GNU format keeps whole seconds
	sum    [32]byte
	size   int64
	target string
	uid    uint32
	gid    uint32
}

// snapshotTree describes every entry below root (root itself included as
// "."), plus the groups of paths that share an inode.
func snapshotTree(t *testing.T, root string) (map[string]node, []string) {
	t.Helper()
	nodes := map[string]node{}
	inodes := map[uint64][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		n := node{mode: fi.Mode(), uid: st.Uid, gid: st.Gid}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			n.kind = "symlink"
			n.target, err = os.Readlink(p)
			if err != nil {
				return err
			}
			n.mode = 0 // symlink permissions are not portable
			n.mtime = fi.ModTime().Unix()
		case fi.IsDir():
			n.kind = "dir"
			n.mtime = fi.ModTime().Unix()
		default:
			n.kind = "file"
			n.mtime = fi.ModTime().Unix()
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.sum = sha256.Sum256(data)
			n.size = int64(len(data))
			if st.Nlink > 1 {
				inodes[st.Ino] = append(inodes[st.Ino], rel)
			}
		}
		nodes[rel] = n
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	var groups []string
	for _, g := range inodes {
		if len(g) > 1 {
			sort.Strings(g)
			groups = append(groups, strings.Join(g, "|"))
		}
	}
	sort.Strings(groups)
	return nodes, groups
}

// requireSameTree fails unless want and got hold the same entries with the
// same type, content, mode, mtime, link target, owner and hard-link
// grouping.
func requireSameTree(t *testing.T, want, got string) {
	t.Helper()
	wn, wg := snapshotTree(t, want)
	gn, gg := snapshotTree(t, got)
	var diffs []string
	for p, w := range wn {
		g, ok := gn[p]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("missing %q", p))
			continue
		}
		if w != g {
			diffs = append(diffs, fmt.Sprintf("%q differs:\n   want %+v\n   got  %+v", p, w, g))
		}
	}
	for p := range gn {
		if _, ok := wn[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected %q", p))
		}
	}
	if strings.Join(wg, ",") != strings.Join(gg, ",") {
		diffs = append(diffs, fmt.Sprintf("hard-link groups differ:\n   want %q\n   got  %q", wg, gg))
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Fatalf("restored tree %s differs from %s:\n%s", got, want, strings.Join(diffs, "\n"))
	}
}

// settle gives every entry below root a distinct whole-second mtime in the
// past, directories last so creating children does not undo it.
func settle(t *testing.T, root string) {
	t.Helper()
	base := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	var dirs []string
	i := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		i++
		ts := base.Add(time.Duration(i) * time.Minute)
		return os.Chtimes(p, ts, ts)
	})
	if err != nil {
		t.Fatal(err)
	}
	for j := len(dirs) - 1; j >= 0; j-- {
		ts := base.Add(time.Duration(j) * time.Hour)
		if err := os.Chtimes(dirs[j], ts, ts); err != nil {
			t.Fatal(err)
		}
	}
}

func mustWrite(t *testing.T, path string, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// buildTree makes a source tree with every kind of entry the engine keeps.
func buildTree(t *testing.T, root string) {
	t.Helper()
	mustWrite(t, filepath.Join(root, "plain.txt"), "hello\n", 0o644)
	mustWrite(t, filepath.Join(root, "secret"), "s3cr3t", 0o600)
	mustWrite(t, filepath.Join(root, "run.sh"), "#!/bin/sh\necho hi\n", 0o755)
	mustWrite(t, filepath.Join(root, "empty"), "", 0o640)
	mustWrite(t, filepath.Join(root, "sub", "deeper", "file.bin"), strings.Repeat("\x00\x01binary", 5000), 0o644)
	mustWrite(t, filepath.Join(root, "sub", "setgid-ish"), "x", fs.ModeSetgid|0o755)
	must(t, os.MkdirAll(filepath.Join(root, "emptydir"), 0o755))
	must(t, os.MkdirAll(filepath.Join(root, "private"), 0o700))
	mustWrite(t, filepath.Join(root, "private", "p"), "p", 0o600)
	long := strings.Repeat("long-component-", 8) // 120 bytes
	mustWrite(t, filepath.Join(root, long, long, "file-with-a-long-path"), "deep", 0o644)
	mustWrite(t, filepath.Join(root, "nonutf8-\xff\xfe-name"), "latin1", 0o644)
	mustWrite(t, filepath.Join(root, "space and ünïcode.txt"), "u", 0o644)
	must(t, os.Symlink("plain.txt", filepath.Join(root, "link-to-plain")))
	must(t, os.Symlink("../"+long+"/"+long+"/file-with-a-long-path-target-that-is-long-"+strings.Repeat("x", 80), filepath.Join(root, "sub", "long-symlink")))
	must(t, os.Symlink("/nonexistent/absolute", filepath.Join(root, "dangling")))
	must(t, os.Link(filepath.Join(root, "plain.txt"), filepath.Join(root, "sub", "hardlink-to-plain")))
	must(t, os.Link(filepath.Join(root, "plain.txt"), filepath.Join(root, "hardlink2")))
	if os.Geteuid() == 0 {
		// Owners without a name on this system, and named ones.
		must(t, os.Lchown(filepath.Join(root, "secret"), 4321, 8765))
		must(t, os.Lchown(filepath.Join(root, "private"), 65534, 65534))
		must(t, os.Lchown(filepath.Join(root, "link-to-plain"), 4321, 4321))
	}
	settle(t, root)
}

type level struct {
	archive []byte
	state   []byte
	stats   backup.Stats
}

func runBackup(t *testing.T, e *Engine, path string, prev []byte, opts ...func(*backup.BackupRequest)) level {
	t.Helper()
	var out, state bytes.Buffer
	req := backup.BackupRequest{Path: path, State: &state}
	if prev != nil {
		req.PrevState = bytes.NewReader(prev)
	}
	for _, o := range opts {
		o(&req)
	}
	stats, err := e.Backup(context.Background(), req, &out)
	if err != nil {
		t.Fatalf("backup of %s: %v", path, err)
	}
	return level{archive: out.Bytes(), state: state.Bytes(), stats: stats}
}

func runRestore(t *testing.T, e *Engine, dir string, archive []byte) backup.Stats {
	t.Helper()
	stats, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: dir}, bytes.NewReader(archive))
	if err != nil {
		t.Fatalf("restore into %s: %v", dir, err)
	}
	return stats
}

type backupRequest = backup.BackupRequest

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
