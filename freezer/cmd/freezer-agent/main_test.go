package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the freezer-agent built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "freezer-agent-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "freezer-agent")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building freezer-agent: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func agent(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	// No OS_* at all: local storage must not need Keystone.
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

func TestBinaryRoundTripWithoutOpenStackEnv(t *testing.T) {
	src, store := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("data"), 0o644)
	log := filepath.Join(t.TempDir(), "agent.log")
	base := []string{"--storage", "local", "--container", store, "--backup-name", "bin", "--log-file", log, "--nosync"}
	code, out, errOut := agent(t, append(base, "--path-to-backup", src, "--metadata-out", "-")...)
	if code != 0 || !strings.Contains(out, `"curr_backup_level":0`) {
		t.Fatalf("backup: %d %q %q", code, out, errOut)
	}
	// With the result JSON on stdout (a scheduler's run), stderr stays
	// empty: upstream's scheduler takes any output there for a failure.
	if errOut != "" {
		t.Errorf("stderr of a successful --metadata-out - run: %q", errOut)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	code, _, errOut = agent(t, append(base, "--action", "restore", "--restore-abs-path", dst)...)
	if code != 0 {
		t.Fatalf("restore: %d %s", code, errOut)
	}
	// Otherwise the final stats line goes to stderr.
	if !strings.Contains(errOut, "restore: 1 files") {
		t.Errorf("stats line missing: %q", errOut)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "f")); err != nil || string(b) != "data" {
		t.Fatalf("restored %q %v", b, err)
	}
	// The log is structured (key=value) and has the action.
	lb, _ := os.ReadFile(log)
	if !strings.Contains(string(lb), "action=backup") || !strings.Contains(string(lb), "component=freezer-agent") {
		t.Errorf("log %q", lb)
	}
	if code, out, _ := agent(t, "--version"); code != 0 || strings.TrimSpace(out) == "" {
		t.Errorf("--version %d %q", code, out)
	}
}

// TestSIGTERMStopsCleanly: a backup killed by SIGTERM stops every stage,
// commits nothing, and the process dies by SIGTERM (so a scheduler sees
// an aborted run, as with upstream).
func TestSIGTERMStopsCleanly(t *testing.T) {
	src, store := t.TempDir(), t.TempDir()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + i/251)
	}
	for i := 0; i < 64; i++ {
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d", i)), buf, 0o644)
	}
	cmd := exec.Command(binary, "--storage", "local", "--container", store, "--backup-name", "sig",
		"--path-to-backup", src, "--compression", "xz", "--log-file", filepath.Join(t.TempDir(), "log"), "--nosync")
	cmd.Env = []string{"HOME=" + t.TempDir()}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(store, "data", "tar", "*", "*", "*", "*")); len(m) > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil {
		t.Skip("backup finished before the signal")
	}
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Fatalf("exit %v (stderr %q), want death by SIGTERM", err, errb.String())
	}
	if m, _ := filepath.Glob(filepath.Join(store, "metadata", "tar", "*", "*", "*", "metadata")); len(m) != 0 {
		t.Fatalf("interrupted backup committed %v", m)
	}
}
