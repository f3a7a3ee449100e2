package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// digestTree is the tree's paths, modes, contents and file mtimes.
func digestTree(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %x %d", sha256.Sum256(b), fi.ModTime().Unix())
		}
		if rel != "." {
			lines = append(lines, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestRsyncRestoreSIGKILLRerun: an rsyncv2 restore of a 2-level chain
// whose agent is SIGKILLed mid-way leaves a partial tree; rerunning the
// restore (with --overwrite) into it gives the newest state exactly.
func TestRsyncRestoreSIGKILLRerun(t *testing.T) {
	src, store := t.TempDir(), t.TempDir()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + i/251)
	}
	for i := 0; i < 32; i++ {
		buf[0] = byte(i)
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%02d", i)), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"--engine", "rsyncv2", "--storage", "local", "--container", store, "--backup-name", "kill",
		"--max-level", "5", "--compression", "xz", "--log-file", filepath.Join(t.TempDir(), "log"), "--nosync"}
	if code, out, errOut := agent(t, append(base, "--path-to-backup", src, "--metadata-out", "-")...); code != 0 || !strings.Contains(out, `"curr_backup_level":0`) {
		t.Fatalf("level 0: %d %q %q", code, out, errOut)
	}
	// Level 1: a changed block, an append, a delete.
	f, err := os.OpenFile(filepath.Join(src, "f10"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("changed block"), 300_000)
	f.Close()
	f, err = os.OpenFile(filepath.Join(src, "f20"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Repeat("appended ", 1000))
	f.Close()
	os.Remove(filepath.Join(src, "f30"))
	if code, out, errOut := agent(t, append(base, "--path-to-backup", src, "--metadata-out", "-")...); code != 0 || !strings.Contains(out, `"curr_backup_level":1`) {
		t.Fatalf("level 1: %d %q %q", code, out, errOut)
	}

	dst := filepath.Join(t.TempDir(), "dst")
	cmd := exec.Command(binary, append(base, "--action", "restore", "--restore-abs-path", dst)...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(dst, "f0*")); len(m) > 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Kill()
	err = cmd.Wait()
	if err == nil {
		t.Skip("restore finished before the kill")
	}
	if ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("exit %v (stderr %q), want death by SIGKILL", err, errb.String())
	}
	if digestTree(t, dst) == digestTree(t, src) {
		t.Skip("restore complete before the kill")
	}
	if code, _, errOut := agent(t, append(base, "--action", "restore", "--restore-abs-path", dst, "--overwrite")...); code != 0 {
		t.Fatalf("rerun: %d %s", code, errOut)
	}
	if want, got := digestTree(t, src), digestTree(t, dst); want != got {
		t.Fatalf("restored tree differs:\nwant\n%s\ngot\n%s", want, got)
	}
}
