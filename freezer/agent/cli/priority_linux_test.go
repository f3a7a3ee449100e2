package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const ioprioClassBE = 2

// TestRaisePriorityEveryThread checks the nice value (from
// /proc/self/task/*/stat) and the I/O priority (ioprio_get) of every thread,
// those there before the change and those started after it. It runs in a
// child process so that the rest of the test binary keeps its priority.
// As root it checks raisePriority itself (nice -19, real-time I/O);
// otherwise it lowers the priority instead (nice 7, best-effort level 7),
// which needs no privilege and exercises the same per-thread loop.
func TestRaisePriorityEveryThread(t *testing.T) {
	if os.Getenv("FREEZER_PRIORITY_CHILD") == "1" {
		priorityChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRaisePriorityEveryThread$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FREEZER_PRIORITY_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "threads checked:") {
		t.Fatalf("child did not report:\n%s", out)
	}
	t.Logf("%s", out)
}

func priorityChild() {
	// Goroutines pinned to threads of their own: the process has several
	// OS threads before the change, as the agent has by the time it parses
	// its options.
	release := make(chan struct{})
	started := make(chan struct{})
	pin := func() {
		runtime.LockOSThread()
		started <- struct{}{}
		<-release
	}
	for range 6 {
		go pin()
		<-started
	}
	nice, ioprio := 7, ioprioClassBE<<ioprioClassShift|7
	var err error
	if os.Geteuid() == 0 {
		nice, ioprio = -19, ioprioClassRT<<ioprioClassShift
		err = raisePriority()
	} else {
		err = setAllThreadsPriority(nice, ioprio)
	}
	if err != nil {
		fmt.Println("FAIL: setting the priority:", err)
		os.Exit(1)
	}
	// Threads started after the change inherit it.
	for range 4 {
		go pin()
		<-started
	}
	bad, n := checkThreads(nice, ioprio)
	close(release)
	if len(bad) > 0 {
		fmt.Printf("FAIL: %d of %d threads not at nice %d, ioprio %#x:\n%s\n", len(bad), n, nice, ioprio, strings.Join(bad, "\n"))
		os.Exit(1)
	}
	fmt.Printf("threads checked: %d, all at nice %d, ioprio %#x\n", n, nice, ioprio)
}

func checkThreads(nice, ioprio int) (bad []string, n int) {
	stats, _ := filepath.Glob("/proc/self/task/*/stat")
	for _, path := range stats {
		tid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		n++
		got, err := statNice(string(b))
		if err != nil {
			bad = append(bad, fmt.Sprintf("thread %d: %v", tid, err))
			continue
		}
		prio, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(tid), 0)
		if errno != 0 {
			bad = append(bad, fmt.Sprintf("thread %d: ioprio_get: %v", tid, errno))
			continue
		}
		if got != nice || int(prio) != ioprio {
			bad = append(bad, fmt.Sprintf("thread %d: nice %d, ioprio %#x", tid, got, prio))
		}
	}
	if n < 10 {
		bad = append(bad, fmt.Sprintf("only %d threads seen, want at least 10", n))
	}
	return bad, n
}

// statNice returns field 19 (nice) of a /proc/<pid>/task/<tid>/stat line.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ")".
func statNice(stat string) (int, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 17 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	return strconv.Atoi(f[16]) // f[0] is field 3 (state)
}

func TestStatNice(t *testing.T) {
	got, err := statNice("42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 39 19 7 0 123 456 789")
	if err != nil || got != 19 {
		t.Fatalf("statNice = %d, %v; want 19", got, err)
	}
	if _, err := statNice("garbage"); err == nil {
		t.Fatal("statNice accepted garbage")
	}
}
