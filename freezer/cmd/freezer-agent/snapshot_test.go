//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/loopfs"
)

// snapFixture is a btrfs subvolume to back up, a local storage and a
// snapshot journal, for --snapshot runs of the binary.
type snapFixture struct {
	mnt, data, store, journal string
}

func newSnapFixture(t *testing.T) snapFixture {
	mnt := loopfs.Btrfs(t, 512<<20)
	f := snapFixture{mnt: mnt, data: filepath.Join(mnt, "data"), store: t.TempDir(), journal: filepath.Join(t.TempDir(), "journal")}
	loopfs.Subvolume(t, f.data)
	return f
}

func (f snapFixture) args(name string, extra ...string) []string {
	return append([]string{"--storage", "local", "--container", f.store, "--backup-name", name,
		"--nosync", "--snapshot-journal", f.journal, "--compression", "zstd"}, extra...)
}

// leftovers lists the freezer snapshots still on the file system and the
// journal entries still present.
func (f snapFixture) leftovers(t *testing.T) (snaps []string, journal []string) {
	t.Helper()
	out, err := exec.Command("btrfs", "subvolume", "list", f.mnt).CombinedOutput()
	if err != nil {
		t.Fatalf("btrfs subvolume list: %v %s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "freezer_backup_snap_") {
			snaps = append(snaps, l)
		}
	}
	ents, _ := os.ReadDir(f.journal)
	for _, e := range ents {
		journal = append(journal, e.Name())
	}
	return snaps, journal
}

func (f snapFixture) assertClean(t *testing.T, when string) {
	t.Helper()
	s, j := f.leftovers(t)
	if len(s) != 0 || len(j) != 0 {
		t.Errorf("%s: snapshots left %v, journal entries left %v", when, s, j)
	}
}

func agentEnv() []string { return []string{"HOME=/nonexistent", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"} }

// Files rewritten without pause during the backup restore from a btrfs
// snapshot as of one instant: hot.bin (replaced whole, as careful writers
// do: temp file, fsync, rename) is one whole version, and a.bin and z.bin, which
// the writer replaces in turn, hold versions no further apart than at any
// instant (z = a or a-1) although the backup reads 8 MiB of m.bin between
// them. The snapshot is gone afterwards and its kind is in the result and
// the stored metadata.
//
// A snapshot is crash-consistent, not write()-atomic: a large in-place
// write(2) in flight when it is taken may show half done in it, as after a
// power cut; that is why the writer here replaces files whole.
func TestBinarySnapshotBtrfsConsistent(t *testing.T) {
	f := newSnapFixture(t)
	const size = 1 << 20
	version := func(v uint32) []byte {
		b := make([]byte, size)
		for i := 0; i < size; i += 4 {
			b[i], b[i+1], b[i+2], b[i+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		}
		return b
	}
	replace := func(name string, b []byte) error {
		tmp := filepath.Join(f.data, "."+name+".tmp")
		w, err := os.Create(tmp)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			w.Close()
			return err
		}
		// Durable before it is visible, as after a crash; without it a
		// snapshot (like a power cut) may show the new name empty.
		if err := w.Sync(); err != nil {
			w.Close()
			return err
		}
		w.Close()
		return os.Rename(tmp, filepath.Join(f.data, name))
	}
	for _, n := range []string{"hot.bin", "a.bin", "z.bin"} {
		if err := replace(n, version(0)); err != nil {
			t.Fatal(err)
		}
	}
	cold := make([]byte, 8<<20)
	rand.Read(cold)
	os.WriteFile(filepath.Join(f.data, "m.bin"), cold, 0o644)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var versions uint32
	go func() {
		defer wg.Done()
		for v := uint32(1); ctx.Err() == nil; v++ {
			b := version(v)
			for _, n := range []string{"hot.bin", "a.bin", "z.bin"} {
				if err := replace(n, b); err != nil {
					t.Error(err)
					return
				}
			}
			versions = v
		}
	}()
	for i, snap := range []string{"btrfs", "True"} {
		cmd := exec.Command(binary, f.args("hot", "--path-to-backup", f.data, "--snapshot", snap, "--metadata-out", "-", "--exclude", ".*.tmp")...)
		cmd.Env = agentEnv()
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			stop()
			wg.Wait()
			t.Fatalf("backup %d: %v %s", i, err, errb.String())
		}
		var res map[string]any
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if res["snapshot"] != "btrfs" || !strings.Contains(res["vol_snap_path"].(string), "freezer_backup_snap_") {
			t.Errorf("result: snapshot %v, vol_snap_path %v", res["snapshot"], res["vol_snap_path"])
		}
		f.assertClean(t, "after a successful backup")
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if versions < 10 {
		t.Fatalf("the writer wrote only %d versions", versions)
	}
	md, _ := exec.Command("sh", "-c", "cat "+f.store+"/metadata/tar/*/*/*/metadata").Output()
	if strings.Count(string(md), `"snapshot":"btrfs"`) != 2 {
		t.Errorf("stored metadata does not record the snapshot: %s", md)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	code, _, errOut := agent(t, f.args("hot", "--action", "restore", "--restore-abs-path", dst)...)
	if code != 0 {
		t.Fatalf("restore: %d %s", code, errOut)
	}
	whole := func(name string) uint32 {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || len(got) != size {
			t.Fatalf("restored %s: %d bytes, %v", name, len(got), err)
		}
		for i := 4; i < size; i += 4 {
			if !bytes.Equal(got[i:i+4], got[:4]) {
				t.Fatalf("%s is torn at byte %d", name, i)
			}
		}
		return uint32(got[0])<<24 | uint32(got[1])<<16 | uint32(got[2])<<8 | uint32(got[3])
	}
	h, a, z := whole("hot.bin"), whole("a.bin"), whole("z.bin")
	if !(z == a || z+1 == a) || !(a == h || a+1 == h) {
		t.Errorf("restored versions hot %d, a %d, z %d: not one instant", h, a, z)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "m.bin")); !bytes.Equal(b, cold) {
		t.Error("m.bin differs")
	}
	if _, err := os.Lstat(filepath.Join(dst, ".freezer-snapshots")); err == nil {
		t.Error("the snapshot directory was backed up")
	}
	t.Logf("writer wrote %d versions during two backups; restored hot %d, a %d, z %d", versions, h, a, z)
}

// --snapshot where no snapshot can be taken fails, naming why; it never
// reads the live files instead.
func TestBinarySnapshotNotApplicable(t *testing.T) {
	src, store := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o644)
	code, _, errOut := agent(t, "--storage", "local", "--container", store, "--backup-name", "n", "--nosync",
		"--path-to-backup", src, "--snapshot", "True", "--snapshot-journal", filepath.Join(t.TempDir(), "j"))
	if code == 0 || !strings.Contains(errOut, "btrfs:") || !strings.Contains(errOut, "lvm:") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if ents, _ := os.ReadDir(store); len(ents) != 0 {
		if out, _ := exec.Command("find", store, "-name", "metadata").Output(); len(out) > 0 {
			t.Errorf("a backup was committed: %s", out)
		}
	}
}

// The snapshot is removed when the backup fails half-way (the storage
// fills up) and when the agent is stopped with SIGTERM; after SIGKILL it
// is left, and the next run removes it.
func TestBinarySnapshotCleanupOnFailureAndKill(t *testing.T) {
	f := newSnapFixture(t)
	big := make([]byte, 16<<20)
	rand.Read(big)
	os.WriteFile(filepath.Join(f.data, "big.bin"), big, 0o644)

	// A storage that fills up mid-backup: a 1 MiB tmpfs.
	full := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", full).Run() })
	args := f.args("fail", "--path-to-backup", f.data, "--snapshot", "btrfs")
	args[3] = full
	cmd := exec.Command(binary, args...)
	cmd.Env = agentEnv()
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no space") {
		t.Fatalf("backup to a full storage: %v %s", err, out)
	}
	f.assertClean(t, "after a failed backup")

	// Slow uploads keep the snapshot alive long enough to signal.
	started := func(sig syscall.Signal) *exec.Cmd {
		cmd := exec.Command(binary, f.args("sig", "--path-to-backup", f.data, "--snapshot", "btrfs", "--upload-limit", "1M", "--compression", "none")...)
		cmd.Env = agentEnv()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			if s, _ := f.leftovers(t); len(s) > 0 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("no snapshot appeared")
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // inside the backup
		cmd.Process.Signal(sig)
		cmd.Wait()
		return cmd
	}
	c := started(syscall.SIGTERM)
	if ws := c.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("SIGTERM run ended with %v", c.ProcessState)
	}
	f.assertClean(t, "after SIGTERM")

	started(syscall.SIGKILL)
	if s, j := f.leftovers(t); len(s) != 1 || len(j) != 1 {
		t.Fatalf("after SIGKILL: snapshots %v, journal %v (want one of each)", s, j)
	}
	// The next run, even one without --snapshot, removes it first.
	code, _, errOut := agent(t, f.args("next", "--path-to-backup", f.data)...)
	if code != 0 {
		t.Fatalf("next run: %d %s", code, errOut)
	}
	f.assertClean(t, "after the run that followed SIGKILL")
}
