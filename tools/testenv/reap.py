#!/usr/bin/python3
"""Runs one command as a child and reaps every orphan it leaves behind.

PID 1 on these machines never reaps re-parented processes, and the process
table holds only 32768 pids: sshd and vsftpd leave a zombie or more per
connection, so a long test run could exhaust it. This wrapper marks itself
a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so orphaned descendants
of the command are re-parented here and reaped. TERM, INT and HUP are passed
on to the command; the wrapper exits with the command's status.

Usage: reap.py PROGRAM [ARGS...]
"""

import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: reap.py PROGRAM [ARGS...]")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("reap.py: prctl(PR_SET_CHILD_SUBREAPER): errno %d"
                 % ctypes.get_errno())
    child = os.fork()
    if child == 0:
        try:
            os.execv(sys.argv[1], sys.argv[1:])
        finally:
            os._exit(127)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, forward)
    code = 1
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            break
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
