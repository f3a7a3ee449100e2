//go:build unix

package daemon

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

func sendSignal(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// detach makes the daemon the leader of a new session, away from the
// terminal, and keeps it from holding the current directory busy.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
}

// commandLine returns a live process's command line, from /proc where there
// is one (Linux), from ps(1) elsewhere.
func commandLine(pid int) (string, bool) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		return psCommandLine(pid)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return "", false
	}
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "Z" {
			return "", false
		}
	}
	return string(b), true
}

func psCommandLine(pid int) (string, bool) {
	if syscall.Kill(pid, 0) == syscall.ESRCH {
		return "", false
	}
	out, err := exec.Command("ps", "-ww", "-o", "state=", "-o", "args=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return "", false
	}
	return parsePS(string(out))
}

// parsePS reads ps's "state args..." line; a zombie (state Z) is not alive.
func parsePS(out string) (string, bool) {
	state, args, _ := strings.Cut(strings.TrimSpace(out), " ")
	if state == "" || strings.HasPrefix(state, "Z") {
		return "", false
	}
	return strings.TrimSpace(args), true
}
