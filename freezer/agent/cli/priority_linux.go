package cli

import (
	"golang.org/x/sys/unix"
)

// raisePriority does what upstream's --max-priority does with nice and
// ionice: CPU nice -19 and real-time I/O class, priority 0. Both need
// privileges; failures are returned for the log, never fatal.
func raisePriority() error {
	if err := unix.Setpriority(unix.PRIO_PROCESS, 0, -19); err != nil {
		return err
	}
	const ioprioClassRT, ioprioClassShift, ioprioWhoProcess = 1, 13, 1
	if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, ioprioClassRT<<ioprioClassShift); errno != 0 {
		return errno
	}
	return nil
}
