package tar

import "syscall"

// noAtime keeps a backup from changing the access times it archives: a
// run that reads a file would otherwise give the next run a different
// header for it, and a resumed backup could not reproduce the stream it
// had partly stored. Only the owner (or CAP_FOWNER) may use it; others get
// EPERM and open without it.
const noAtime = syscall.O_NOATIME
