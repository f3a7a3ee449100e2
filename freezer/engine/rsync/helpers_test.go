//go:build linux

package rsync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
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

// level is one backup's output.
type level struct {
	payload, state []byte
	comp           string
	stats          backup.Stats
}

// runBackup backs src up against prev (nil for a level 0), compressing
// the state with comp as the agent's request says.
func runBackup(t testing.TB, e *Engine, src string, prev *level, comp string, bs int) level {
	t.Helper()
	var payload, state bytes.Buffer
	req := backup.BackupRequest{Path: src, State: &state, Compression: comp, BlockSize: bs}
	if prev != nil {
		req.PrevState = bytes.NewReader(prev.state)
		req.PrevMetadata = backup.Metadata{Compression: prev.comp, RsyncBlockSize: prev.stats.BlockSize}
	}
	st, err := e.Backup(context.Background(), req, &payload)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return level{payload: payload.Bytes(), state: state.Bytes(), comp: comp, stats: st}
}

func runRestore(t testing.TB, e *Engine, l level, dir string) backup.Stats {
	t.Helper()
	st, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: dir, Metadata: backup.Metadata{RsyncBlockSize: l.stats.BlockSize}}, bytes.NewReader(l.payload))
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	return st
}

// node is what the comparison checks of one entry.
type node struct {
	typ      fs.FileMode
	mode     uint32
	uid, gid uint32
	mtime    int64
	size     int64
	sum      string // content hash (regular files)
	target   string // symlink target
	rdev     uint64
	link     string // first path sharing this inode (hard links)
}

func snapshot(t *testing.T, root string) map[string]node {
	t.Helper()
	out := map[string]node{}
	inodes := map[uint64]string{}
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		n := node{typ: fi.Mode().Type(), mode: st.Mode, uid: st.Uid, gid: st.Gid, mtime: st.Mtim.Nano(), rdev: st.Rdev}
		switch {
		case fi.Mode().IsRegular():
			n.size = fi.Size()
			n.sum = fileSum(t, p)
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					n.link = first
				} else {
					inodes[st.Ino] = rel
				}
			}
		case fi.Mode()&fs.ModeSymlink != 0:
			n.target, _ = os.Readlink(p)
		}
		out[rel] = n
	}
	return out
}

func fileSum(t *testing.T, p string) string {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func compareTrees(t *testing.T, want, got map[string]node) {
	t.Helper()
	var diffs []string
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			diffs = append(diffs, "missing "+p)
			continue
		}
		if w != g {
			diffs = append(diffs, p+": want "+describe(w)+" got "+describe(g))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, "extra "+p)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("trees differ:\n%s", strings.Join(diffs, "\n"))
	}
}

func describe(n node) string {
	return strings.Join([]string{n.typ.String(), "mode=" + oct(n.mode), "mtime=" + time.Unix(0, n.mtime).UTC().Format(time.RFC3339Nano),
		"size=" + itoa(n.size), "sum=" + short(n.sum), "target=" + n.target, "link=" + n.link, "uid=" + itoa(int64(n.uid)), "gid=" + itoa(int64(n.gid))}, " ")
}

func short(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func oct(v uint32) string { return "0" + strconvFormat(uint64(v), 8) }
func itoa(v int64) string {
	if v < 0 {
		return "-" + strconvFormat(uint64(-v), 10)
	}
	return strconvFormat(uint64(v), 10)
}

func strconvFormat(v uint64, base uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for v > 0 {
		b = append([]byte{"0123456789abcdef"[v%base]}, b...)
		v /= base
	}
	return string(b)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t testing.TB, p string, data []byte) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, data, 0o644))
}

func randBytes(seed, n int) []byte {
	b := make([]byte, n)
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}
