package cli

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// I/O priority encoding of ioprio_set(2).
const (
	ioprioClassRT    = 1
	ioprioClassShift = 13
	ioprioWhoProcess = 1
)

// raisePriority does what upstream's --max-priority does with nice and
// ionice: CPU nice -19 and real-time I/O class, priority 0. Both need
// privileges; failures are returned for the log, never fatal.
func raisePriority() error {
	return setAllThreadsPriority(-19, ioprioClassRT<<ioprioClassShift)
}

// setAllThreadsPriority sets the nice value and I/O priority of every
// thread of the process. On Linux both are per thread: PRIO_PROCESS and
// IOPRIO_WHO_PROCESS with who=0 change the calling thread only, which left
// most of a Go program (its other OS threads) at the old priority. A thread
// created later inherits from the thread that creates it, so once every
// existing thread is done the whole process stays there. The task list is
// read again until a pass finds no thread it has not already set, since
// the runtime may start one while we are at it.
func setAllThreadsPriority(nice, ioprio int) error {
	done := map[int]bool{}
	for pass := 0; pass < 10; pass++ {
		tids, err := threadIDs()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh++
			if err := unix.Setpriority(unix.PRIO_PROCESS, tid, nice); err != nil && err != unix.ESRCH {
				return fmt.Errorf("setting the nice value of thread %d: %w", tid, err)
			}
			if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), uintptr(ioprio)); errno != 0 && errno != unix.ESRCH {
				return fmt.Errorf("setting the I/O priority of thread %d: %w", tid, errno)
			}
			done[tid] = true
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}

// threadIDs lists the process's threads (tasks).
func threadIDs() ([]int, error) {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("listing threads: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("listing threads: %w", err)
	}
	tids := make([]int, 0, len(names))
	for _, n := range names {
		if tid, err := strconv.Atoi(n); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
