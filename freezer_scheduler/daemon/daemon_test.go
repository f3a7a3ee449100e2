//go:build unix

package daemon

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestPidFileLifecycle(t *testing.T) {
	p := PidFile{Path: filepath.Join(t.TempDir(), "s.pid"), Name: "daemon.test"}
	if pid, err := p.Read(); pid != 0 || err != nil {
		t.Fatalf("empty: %d %v", pid, err)
	}
	if err := p.Acquire(); err != nil {
		t.Fatal(err)
	}
	if got := p.Running(); got != os.Getpid() {
		t.Errorf("Running = %d, want %d", got, os.Getpid())
	}
	p.Release()
	if _, err := os.Stat(p.Path); !os.IsNotExist(err) {
		t.Error("pid file not removed")
	}

	// A stale file naming a live process that is not a scheduler is
	// ignored: never signal a reused pid.
	sleep := exec.Command("sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleep.Process.Kill()
	os.WriteFile(p.Path, []byte(strconv.Itoa(sleep.Process.Pid)), 0o644)
	if p.Running() != 0 {
		t.Error("a foreign pid counted as running")
	}
	if pid, err := p.Signal(syscall.SIGTERM); pid != 0 || err != nil {
		t.Errorf("Signal on a foreign pid: %d %v", pid, err)
	}
	if err := p.Acquire(); err != nil {
		t.Errorf("Acquire over a stale file: %v", err)
	}
	os.WriteFile(p.Path, []byte("garbage"), 0o644)
	if _, err := p.Read(); err == nil {
		t.Error("corrupt pid file accepted")
	}
}

func TestStopWaitsForExit(t *testing.T) {
	sleep := exec.Command("sleep", "30")
	// Its own process group: a signal another test sends to its group
	// (the go test process's) must not end it before Stop does.
	sleep.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleep.Process.Kill()
	go sleep.Wait()
	p := PidFile{Path: filepath.Join(t.TempDir(), "s.pid"), Name: "sleep"}
	if err := os.WriteFile(p.Path, []byte(strconv.Itoa(sleep.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The precondition: the pid file names a running "sleep". Once the
	// CI run saw Stop find nothing to stop; if that happens again, this
	// says whether the process was there at all.
	for deadline := time.Now().Add(5 * time.Second); p.Running() != sleep.Process.Pid; {
		if time.Now().After(deadline) {
			cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(sleep.Process.Pid) + "/cmdline")
			t.Fatalf("pid %d never seen running as sleep: cmdline %q, %v", sleep.Process.Pid, cmdline, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	pid, err := p.Stop(5 * time.Second)
	if err != nil || pid != sleep.Process.Pid {
		t.Fatalf("Stop: %d %v", pid, err)
	}
	if p.Running() != 0 {
		t.Error("still running after Stop")
	}
}
