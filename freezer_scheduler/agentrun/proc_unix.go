//go:build unix

package agentrun

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrapperWritesRC: the /bin/sh wrapper records the exit status, so that it
// survives the scheduler.
const wrapperWritesRC = true

// command runs the agent under the wrapper, in a process group of its own:
// abort reaches the agent's children (tar, gzip, ssh) too, and a SIGKILLed
// scheduler does not take the agent down with it.
func (r *Runner) command(files Files, args ...string) *exec.Cmd {
	shell := r.Shell
	if shell == "" {
		shell = "/bin/sh"
	}
	cmd := exec.Command(shell, append([]string{"-c", wrapper, files.RC(), r.AgentPath}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// killTreeAfterExit: children left in the group are killed even when the
// agent has exited; a group id is not reused while a member lives.
const killTreeAfterExit = true

// terminate signals the process group pgid: SIGTERM, or SIGKILL if force.
func terminate(pgid int, force bool) {
	sig := syscall.SIGTERM
	if force {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pgid, sig)
}

// isRun finds the run's rc file path among the wrapper's arguments.
func isRun(pid int, files Files) bool {
	args, ok := cmdline(pid)
	if !ok {
		return false
	}
	for _, arg := range args {
		if arg == files.RC() {
			return true
		}
	}
	return false
}

// cmdline returns the arguments of a live process (not a zombie), from
// /proc where there is one (Linux), from ps(1) elsewhere.
func cmdline(pid int) ([]string, bool) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		return psArgs(pid)
	}
	// Right after exec the kernel can show an empty cmdline for a moment
	// (seen here about once in twenty starts); an alive process with no
	// arguments yet is asked again rather than taken for another program.
	var b []byte
	for try := 0; ; try++ {
		var err error
		b, err = os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			return nil, false
		}
		if len(b) > 0 || try == 50 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "Z" {
			return nil, false
		}
	}
	return strings.Split(string(b), "\x00"), true
}

// psArgs asks ps(1) (macOS, the BSDs) for a process's state and command
// line. ps joins the arguments with spaces, so an argument holding a space
// is split; the run directory's paths have none unless configured so.
func psArgs(pid int) ([]string, bool) {
	if syscall.Kill(pid, 0) == syscall.ESRCH {
		return nil, false
	}
	out, err := exec.Command("ps", "-ww", "-o", "state=", "-o", "args=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return nil, false
	}
	return parsePS(string(out))
}

// parsePS reads the "state args..." line of psArgs; a zombie (state Z) is
// not alive.
func parsePS(out string) ([]string, bool) {
	f := strings.Fields(out)
	if len(f) < 2 || strings.HasPrefix(f[0], "Z") {
		return nil, false
	}
	return f[1:], true
}
