package agent

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// syncFilesystems flushes the buffers of the file system holding path
// before a backup. Upstream's --sync runs sync(1), which flushes every file
// system and can take seconds on a busy host; syncfs(2) flushes only the
// one being backed up, which is all a consistent backup needs.
func syncFilesystems(path string) {
	f, err := os.Open(path)
	if err != nil {
		syscall.Sync()
		return
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		syscall.Sync()
	}
}

func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

func signalNumber(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return int(ws.Signal())
	}
	return 0
}
