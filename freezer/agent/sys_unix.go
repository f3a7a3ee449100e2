//go:build unix && !linux

package agent

import (
	"os"
	"os/exec"
	"syscall"
)

// syncFilesystems flushes file system buffers before a backup, as upstream's
// --sync runs sync(1).
func syncFilesystems(string) { syscall.Sync() }

func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

func signalNumber(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return int(ws.Signal())
	}
	return 0
}
