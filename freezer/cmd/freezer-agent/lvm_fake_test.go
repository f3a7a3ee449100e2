//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeLVMTools puts lvcreate, lvremove, mount and umount stand-ins first on
// PATH: each logs its arguments; the fake mount bind-mounts the "origin"
// directory where the snapshot would be mounted, and the fake umount undoes
// it. This kernel has no device-mapper, so this is the LVM path of the
// real binary against fake lvm2 tools, not real LVM.
func fakeLVMTools(t *testing.T, origin string) (bin, logFile string) {
	bin = t.TempDir()
	logFile = filepath.Join(t.TempDir(), "calls")
	scripts := map[string]string{
		"lvcreate": `echo "lvcreate $*" >> "$FAKE_LOG"`,
		"lvremove": `echo "lvremove $*" >> "$FAKE_LOG"`,
		"mount":    `echo "mount $*" >> "$FAKE_LOG"; for a; do last=$a; done; exec /usr/bin/mount --bind "$FAKE_ORIGIN" "$last"`,
		"umount":   `echo "umount $*" >> "$FAKE_LOG"; for a; do last=$a; done; exec /usr/bin/umount -l "$last"`,
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin, logFile
}

func TestBinarySnapshotLVMWithFakeTools(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bind-mounts as the fake snapshot, which needs root")
	}
	// The "origin volume": a tmpfs mounted on vol, holding data/.
	vol := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", vol).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", vol).Run() })
	data := filepath.Join(vol, "data")
	os.MkdirAll(data, 0o755)
	os.WriteFile(filepath.Join(data, "f"), []byte("on the volume"), 0o644)

	bin, logFile := fakeLVMTools(t, vol)
	store, journal := t.TempDir(), filepath.Join(t.TempDir(), "journal")
	dirmount := filepath.Join(t.TempDir(), "snapmnt")
	run := func(container string, extra ...string) (string, error) {
		args := append([]string{"--storage", "local", "--container", container, "--backup-name", "lvm", "--nosync",
			"--snapshot-journal", journal, "--path-to-backup", data, "--snapshot", "lvm",
			"--lvm-srcvol", "/dev/vgfake/lvdata", "--lvm-volgroup", "vgfake", "--lvm-snapname", "snap1",
			"--lvm-dirmount", dirmount, "--lvm-snapsize", "50%FREE"}, extra...)
		cmd := exec.Command(binary, args...)
		cmd.Env = []string{"HOME=/nonexistent", "PATH=" + bin + ":/usr/sbin:/usr/bin:/sbin:/bin", "FAKE_LOG=" + logFile, "FAKE_ORIGIN=" + vol}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	rel := strings.TrimPrefix(data, vol)
	want := strings.Join([]string{
		"lvcreate --extents 50%FREE --snapshot --permission r --name snap1 /dev/vgfake/lvdata",
		"mount -o ro /dev/vgfake/snap1 " + dirmount,
		"umount -l -f " + dirmount,
		"lvremove -f /dev/vgfake/snap1",
	}, "\n") + "\n"

	if out, err := run(store, "--metadata-out", "-"); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	} else if !strings.Contains(out, `"snapshot":"lvm"`) || !strings.Contains(out, `"vol_snap_path":"`+dirmount+rel+`"`) {
		t.Errorf("result %s", out)
	}
	if b, _ := os.ReadFile(logFile); string(b) != want {
		t.Errorf("commands:\n%s\nwant:\n%s", b, want)
	}
	if _, err := os.Stat(dirmount); !os.IsNotExist(err) {
		t.Errorf("mount directory left: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	if code, _, errOut := agent(t, "--storage", "local", "--container", store, "--backup-name", "lvm", "--action", "restore", "--restore-abs-path", dst); code != 0 {
		t.Fatalf("restore: %s", errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "f")); string(b) != "on the volume" {
		t.Errorf("restored %q", b)
	}

	// A backup that fails half-way (its storage, a 1 MiB tmpfs, fills up)
	// still unmounts and removes the snapshot.
	os.Remove(logFile)
	big := make([]byte, 8<<20)
	rand.Read(big)
	os.WriteFile(filepath.Join(data, "big"), big, 0o644)
	full := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", full).Run() })
	if out, err := run(full, "--compression", "none"); err == nil || !strings.Contains(out, "no space") {
		t.Fatalf("backup to a full storage: %v %s", err, out)
	}
	if b, _ := os.ReadFile(logFile); string(b) != want {
		t.Errorf("commands after a failure:\n%s\nwant:\n%s", b, want)
	}
	if ents, _ := os.ReadDir(journal); len(ents) != 0 {
		t.Errorf("journal entries left: %d", len(ents))
	}
	if m, _ := os.ReadFile("/proc/mounts"); strings.Contains(string(m), dirmount) {
		t.Error("the fake snapshot is still mounted")
	}
}
