package agentrun

import (
	"strconv"
	"time"
)

// The parts of the Windows implementation (proc_windows.go) that are plain
// logic live here, so that they are tested on every platform.

// taskkillArgs are the arguments of taskkill.exe that end the process tree
// rooted at pid; without force, taskkill only asks windows to close.
func taskkillArgs(pid int, force bool) []string {
	args := []string{"/T", "/PID", strconv.Itoa(pid)}
	if force {
		args = append([]string{"/F"}, args...)
	}
	return args
}

// adoptWindow is how long after its job file was written an agent may have
// started and still be taken for that run's agent.
const adoptWindow = time.Minute

// startedFor reports whether a process created at created is the agent of a
// run whose job file was last written at ini: Windows gives no portable
// access to another process's arguments, but the scheduler starts the agent
// right after writing that file, and a process that reused the pid started
// later (or, if the file is older than the pid's process, earlier).
func startedFor(created, ini time.Time) bool {
	// File times and process times come from the same clock but are
	// rounded differently; allow a little before.
	const slack = 2 * time.Second
	return !created.Before(ini.Add(-slack)) && created.Before(ini.Add(adoptWindow))
}
