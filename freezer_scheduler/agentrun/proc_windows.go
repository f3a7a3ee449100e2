//go:build windows

package agentrun

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// wrapperWritesRC: Windows has no /bin/sh wrapper; the scheduler writes the
// exit status itself when the agent exits. A run whose scheduler ended
// first is therefore reported as lost by the next one.
const wrapperWritesRC = false

// command runs the agent directly, in a new process group (whose id is the
// agent's pid), so that CTRL_BREAK reaches it and its children only.
func (r *Runner) command(_ Files, args ...string) *exec.Cmd {
	cmd := exec.Command(r.AgentPath, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
	return cmd
}

// killTreeAfterExit: Windows reuses pids quickly, and taskkill /T by the pid
// of an agent that has exited could end another program's tree; children
// the agent left behind are left alone.
const killTreeAfterExit = false

// terminate sends CTRL_BREAK to the agent's process group (the agent takes
// it for an interrupt and cleans up; it only arrives when the scheduler has
// a console, which a service has not), or, if force, ends the whole process
// tree with taskkill /T /F.
func terminate(pgid int, force bool) {
	if !force {
		_ = windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(pgid))
		return
	}
	_ = exec.Command(taskkill(), taskkillArgs(pgid, true)...).Run()
}

// taskkill is System32's taskkill.exe, not whatever PATH finds first.
func taskkill() string {
	if root := os.Getenv("SystemRoot"); root != "" {
		return filepath.Join(root, "System32", "taskkill.exe")
	}
	return "taskkill.exe"
}

// isRun: the process is alive and started right after the run's job file
// was written (the file is removed when the run ends).
func isRun(pid int, files Files) bool {
	st, err := os.Stat(files.INI())
	if err != nil {
		return false
	}
	created, ok := processCreated(pid)
	return ok && startedFor(created, st.ModTime())
}

// processCreated returns when a live process was created.
func processCreated(pid int) (time.Time, bool) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return time.Time{}, false
	}
	defer windows.CloseHandle(h)
	const stillActive = 259
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil || code != stillActive {
		return time.Time{}, false
	}
	var created, exited, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &created, &exited, &kernel, &user); err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, created.Nanoseconds()), true
}
