// Package daemon is the process management of freezer-scheduler: the pid
// file, start in the background, stop, restart, status and reload, as
// upstream's daemon module offers them, without trusting a stale pid file
// (the pid must still be a freezer-scheduler process).
package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PidFile is a scheduler's pid file.
type PidFile struct {
	Path string
	// Name is matched against the process's command line so that a pid
	// reused by another program is never signalled.
	Name string
}

// Read returns the pid recorded in the file, 0 if there is none.
func (p PidFile) Read() (int, error) {
	b, err := os.ReadFile(p.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s is corrupt", p.Path)
	}
	return pid, nil
}

// Running returns the pid of the live scheduler recorded in the file, or 0.
func (p PidFile) Running() int {
	pid, err := p.Read()
	if err != nil || pid == 0 {
		return 0
	}
	if !isOurs(pid, p.Name) {
		return 0
	}
	return pid
}

// isOurs reports whether pid is a live process (not a zombie) whose
// command line holds name.
func isOurs(pid int, name string) bool {
	cmdline, ok := commandLine(pid)
	return ok && (name == "" || strings.Contains(cmdline, name))
}

// Acquire writes our pid into the file, failing if a live scheduler holds
// it.
func (p PidFile) Acquire() error {
	if pid := p.Running(); pid != 0 && pid != os.Getpid() {
		return fmt.Errorf("freezer-scheduler is already running, pid: %d", pid)
	}
	tmp := p.Path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	if err := os.Rename(tmp, p.Path); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	return nil
}

// Release removes the file if it still holds our pid.
func (p PidFile) Release() {
	if pid, _ := p.Read(); pid == os.Getpid() {
		os.Remove(p.Path)
	}
}

// Signal sends sig to the running scheduler. It returns 0 if none runs.
// On Windows only SIGTERM and SIGKILL are understood, and both end the
// process at once (TerminateProcess).
func (p PidFile) Signal(sig syscall.Signal) (int, error) {
	pid := p.Running()
	if pid == 0 {
		return 0, nil
	}
	if err := sendSignal(pid, sig); err != nil {
		return pid, fmt.Errorf("signalling pid %d: %w", pid, err)
	}
	return pid, nil
}

// Stop sends SIGTERM and waits up to timeout for the scheduler to exit (it
// aborts its running agents first). It returns the pid stopped, 0 if none.
func (p PidFile) Stop(timeout time.Duration) (int, error) {
	pid, err := p.Signal(syscall.SIGTERM)
	if pid == 0 || err != nil {
		return pid, err
	}
	deadline := time.Now().Add(timeout)
	for isOurs(pid, p.Name) {
		if time.Now().After(deadline) {
			return pid, fmt.Errorf("pid %d did not exit within %s", pid, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return pid, nil
}

// EnvDaemonized marks the background child of Spawn.
const EnvDaemonized = "FREEZER_SCHEDULER_DAEMONIZED"

// Spawn starts self again in the background, detached from the terminal
// (new session, or on Windows a detached process; stdin from the null
// device, output to logPath), and waits until it has written the pid file
// or exited.
func Spawn(self string, args []string, p PidFile, logPath string, wait time.Duration) (int, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return 0, fmt.Errorf("opening daemon output file: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), EnvDaemonized+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, out, out
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting the daemon: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(wait)
	for {
		if pid, _ := p.Read(); pid == cmd.Process.Pid {
			_ = cmd.Process.Release()
			return pid, nil
		}
		select {
		case err := <-exited:
			return 0, fmt.Errorf("the daemon exited at once (%v); see %s", err, logPath)
		case <-deadline:
			return cmd.Process.Pid, fmt.Errorf("the daemon (pid %d) did not write its pid file within %s; see %s", cmd.Process.Pid, wait, logPath)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
