// Package loopfs gives tests a real btrfs file system: an image file in a
// temp dir, formatted with mkfs.btrfs and loop-mounted, unmounted when the
// test ends. It needs root and loop devices; without root the test skips.
package loopfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Btrfs mounts a fresh btrfs file system of size bytes (at least 128 MiB
// is sensible) and returns its mount point, which is the root of the
// top-level subvolume.
func Btrfs(t testing.TB, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to loop-mount a btrfs image")
	}
	for _, tool := range []string{"mkfs.btrfs", "btrfs", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (tools/testenv/install.sh installs btrfs-progs): %v", tool, err)
		}
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "btrfs.img")
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "truncate", "-s", strconv.FormatInt(size, 10), img)
	run(t, "mkfs.btrfs", "-q", img)
	run(t, "mount", "-o", "loop", img, mnt)
	t.Cleanup(func() {
		// A process a test started may still hold a file for a moment.
		var out []byte
		var err error
		for i := 0; i < 50; i++ {
			if out, err = exec.Command("umount", mnt).CombinedOutput(); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("umount %s: %v: %s", mnt, err, out)
		exec.Command("umount", "-l", mnt).Run()
	})
	return mnt
}

// Subvolume creates a btrfs subvolume at path.
func Subvolume(t testing.TB, path string) {
	t.Helper()
	run(t, "btrfs", "subvolume", "create", path)
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
}
