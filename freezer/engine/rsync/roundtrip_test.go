//go:build linux

package rsync

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var old = time.Date(1981, 3, 4, 5, 6, 7, 123456789, time.UTC)

func setOld(t *testing.T, p string) {
	t.Helper()
	ts := []unix.Timespec{unix.NsecToTimespec(old.UnixNano()), unix.NsecToTimespec(old.UnixNano())}
	must(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
}

// awkwardTree builds the tree the round trips start from.
func awkwardTree(t *testing.T, src string) {
	long := strings.Repeat("long-name-", 22) // 220 bytes
	write(t, filepath.Join(src, "plain.txt"), []byte("hello\n"))
	write(t, filepath.Join(src, "ünïcødé 日本語 with spaces.txt"), []byte("unicode"))
	write(t, filepath.Join(src, "dir", long), randBytes(1, 5000))
	write(t, filepath.Join(src, "dir", "sub", "deep.bin"), randBytes(2, 3*4096+17))
	write(t, filepath.Join(src, "big.bin"), randBytes(3, 1<<20+123))
	write(t, filepath.Join(src, "trunc.bin"), randBytes(4, 40000))
	write(t, filepath.Join(src, "empty"), nil)
	write(t, filepath.Join(src, "todelete.txt"), []byte("bye"))
	write(t, filepath.Join(src, "mod.sh"), []byte("#!/bin/sh\n"))
	write(t, filepath.Join(src, "renamed", "a", "x.txt"), []byte("in a renamed dir"))
	write(t, filepath.Join(src, "becomes-dir"), []byte("file now"))
	must(t, os.MkdirAll(filepath.Join(src, "becomes-link", "child"), 0o755))
	must(t, os.Symlink("plain.txt", filepath.Join(src, "becomes-file")))
	must(t, os.MkdirAll(filepath.Join(src, "emptydir"), 0o700))
	must(t, os.MkdirAll(filepath.Join(src, "ro"), 0o755))
	write(t, filepath.Join(src, "ro", "inside"), []byte("read-only dir"))
	must(t, os.Link(filepath.Join(src, "plain.txt"), filepath.Join(src, "dir", "hardlink")))
	must(t, os.Symlink("does/not/exist", filepath.Join(src, "dangling")))
	must(t, os.Symlink("plain.txt", filepath.Join(src, "retarget")))
	must(t, unix.Mkfifo(filepath.Join(src, "fifo"), 0o640))
	must(t, os.Chmod(filepath.Join(src, "mod.sh"), 0o4755))
	must(t, os.Lchown(filepath.Join(src, "trunc.bin"), 12345, 23456)) // no such user: by number
	must(t, os.Lchown(filepath.Join(src, "empty"), 65534, 65534))
	must(t, os.Lchown(filepath.Join(src, "dangling"), 4242, 4343))

	sparse := filepath.Join(src, "sparse.img")
	f, err := os.Create(sparse)
	must(t, err)
	must(t, f.Truncate(64<<20))
	_, err = f.WriteAt([]byte("middle"), 32<<20)
	must(t, err)
	must(t, f.Close())

	if os.Geteuid() == 0 {
		must(t, unix.Mknod(filepath.Join(src, "chardev"), unix.S_IFCHR|0o620, int(unix.Mkdev(1, 3))))
		must(t, unix.Mknod(filepath.Join(src, "blockdev"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 200))))
	}
	for _, p := range []string{"plain.txt", "dir/" + long, "dangling", "retarget", "fifo", "big.bin", "emptydir"} {
		setOld(t, filepath.Join(src, p))
	}
	must(t, os.Chmod(filepath.Join(src, "ro"), 0o555))
	setOld(t, filepath.Join(src, "ro"))
}

// TestLevels backs up an awkward tree at levels 0..3, changing it between
// levels, and restores every level into a fresh directory.
func TestLevels(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	awkwardTree(t, src)
	e := New(Options{TempDir: t.TempDir()})

	changes := []func(){
		nil,
		func() { // level 1
			f, err := os.OpenFile(filepath.Join(src, "plain.txt"), os.O_APPEND|os.O_WRONLY, 0)
			must(t, err)
			f.WriteString("appended\n")
			f.Close()
			f, err = os.OpenFile(filepath.Join(src, "big.bin"), os.O_WRONLY, 0)
			must(t, err)
			f.WriteAt(randBytes(9, 100), 500000) // middle of a large file
			f.Close()
			must(t, os.Truncate(filepath.Join(src, "trunc.bin"), 10000))
			must(t, os.Remove(filepath.Join(src, "todelete.txt")))
			must(t, os.Rename(filepath.Join(src, "renamed"), filepath.Join(src, "renamed2")))
			must(t, os.Remove(filepath.Join(src, "retarget")))
			must(t, os.Symlink("dir", filepath.Join(src, "retarget")))
			must(t, os.Chmod(filepath.Join(src, "mod.sh"), 0o600))
			f, err = os.OpenFile(filepath.Join(src, "sparse.img"), os.O_WRONLY, 0)
			must(t, err)
			f.WriteAt([]byte("more"), 48<<20)
			f.Close()
		},
		func() { // level 2: type changes and links
			must(t, os.Remove(filepath.Join(src, "becomes-dir")))
			write(t, filepath.Join(src, "becomes-dir", "now-inside"), []byte("x"))
			must(t, os.RemoveAll(filepath.Join(src, "becomes-link")))
			must(t, os.Symlink("dir", filepath.Join(src, "becomes-link")))
			must(t, os.Remove(filepath.Join(src, "becomes-file")))
			write(t, filepath.Join(src, "becomes-file"), []byte("was a link"))
			must(t, os.Link(filepath.Join(src, "big.bin"), filepath.Join(src, "big-link")))
			must(t, os.Remove(filepath.Join(src, "dir", "hardlink")))
			must(t, os.Chmod(filepath.Join(src, "ro"), 0o755))
			write(t, filepath.Join(src, "ro", "new"), []byte("new"))
			must(t, os.Chmod(filepath.Join(src, "ro"), 0o555))
		},
		func() { // level 3: grow, empty, replace, touch
			f, err := os.OpenFile(filepath.Join(src, "trunc.bin"), os.O_APPEND|os.O_WRONLY, 0)
			must(t, err)
			f.Write(randBytes(5, 70000))
			f.Close()
			must(t, os.Truncate(filepath.Join(src, "dir", "sub", "deep.bin"), 0))
			must(t, os.Remove(filepath.Join(src, "big.bin")))
			write(t, filepath.Join(src, "big.bin"), randBytes(6, 200000))
			now := time.Now()
			must(t, os.Chtimes(filepath.Join(src, "ünïcødé 日本語 with spaces.txt"), now, now))
			must(t, os.RemoveAll(filepath.Join(src, "emptydir")))
		},
	}
	var levels []level
	var snaps []map[string]node
	comps := []string{"gzip", "bzip2", "xz", "zstd"}
	for i, change := range changes {
		if change != nil {
			change()
		}
		var prev *level
		if i > 0 {
			prev = &levels[i-1]
		}
		levels = append(levels, runBackup(t, e, src, prev, comps[i], 0))
		snaps = append(snaps, snapshot(t, src))
	}
	// Each chain is restored twice: in place, as for an authenticated
	// stream, and staged until a Verify, as for any other.
	for _, staged := range []bool{false, true} {
		var verify func() error
		if staged {
			verify = func() error { return nil }
		}
		for k := range levels {
			dst := filepath.Join(t.TempDir(), "dst")
			must(t, os.Mkdir(dst, 0o755))
			for _, l := range levels[:k+1] {
				if _, err := restoreVerified(e, l, dst, verify, l.payload); err != nil {
					t.Fatalf("restore (staged %v): %v", staged, err)
				}
			}
			name := "level" + itoa(int64(k))
			if staged {
				name += "-staged"
			}
			t.Run(name, func(t *testing.T) { compareTrees(t, snaps[k], snapshot(t, dst)) })
			var st unix.Stat_t
			must(t, unix.Stat(filepath.Join(dst, "sparse.img"), &st))
			if st.Blocks*512 > 1<<20 {
				t.Errorf("%s: sparse.img restored with %d bytes allocated, want holes", name, st.Blocks*512)
			}
		}
	}
}

// TestPatchSeparatedHardLink: two names of one file at level 0; at level
// 1 the first is replaced by a copy with a different block. Its patch
// lands on a target file still linked to the other name, which must keep
// its content: the patch unshares the file first. (The other name, stored
// as a link at level 0, has no signature, so it is rewritten whole
// afterwards anyway; the unsharing makes the patch safe on its own.)
func TestPatchSeparatedHardLink(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	content := randBytes(31, 6*4096)
	write(t, filepath.Join(src, "a"), content)
	must(t, os.Link(filepath.Join(src, "a"), filepath.Join(src, "b")))
	e := New(Options{TempDir: t.TempDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	l0 := runBackup(t, e, src, nil, "gzip", 0)
	changed := append([]byte(nil), content...)
	copy(changed[2*4096:], "different")
	write(t, filepath.Join(src, "a.tmp"), changed)
	must(t, os.Rename(filepath.Join(src, "a.tmp"), filepath.Join(src, "a")))
	l1 := runBackup(t, e, src, &l0, "gzip", 0)
	es, _, _ := decodeHeader(t, l1.payload)
	if len(es) < 1 || es[0].path != "a" || !es[0].hasDeltas {
		t.Fatalf("level 1 header %+v: want a patch of a first", es)
	}
	dst := t.TempDir()
	runRestore(t, e, l0, dst)
	runRestore(t, e, l1, dst)
	compareTrees(t, snapshot(t, src), snapshot(t, dst))
}
