package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis, as uwsgi and
	// prctl(PR_SET_NAME) allow.
	line := "4242 (uWSGI w) 1) S 4200 4242 4242 0 -1 4194560 100 0 0 0 731 269 0 0 20 0 1 0 12345 0 0\n"
	ticks, ppid, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if ticks != 1000 || ppid != 4200 {
		t.Fatalf("ticks %d ppid %d, want 1000 and 4200", ticks, ppid)
	}
	for _, bad := range []string{"", "4242 no name", "4242 (x) S 1 2 3", "4242 (x) S p 1 1 0 -1 0 0 0 0 0 u 2 0"} {
		if _, _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

// burn spins until this process has used d of CPU time, by getrusage's
// count, so that a loaded machine (CI runs packages in parallel) slows the
// test down instead of failing it; it gives up after a minute of wall time.
func burn(d time.Duration) {
	start := rusageCPU()
	x := 0
	for deadline := time.Now().Add(time.Minute); rusageCPU()-start < d && time.Now().Before(deadline); {
		for i := 0; i < 1e5; i++ {
			x++
		}
	}
	_ = x
}

func rusageCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestProcGroupCountsSelfAndChildren(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	_, ppid, err := procStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ppid != os.Getppid() {
		t.Fatalf("parent %d, want %d", ppid, os.Getppid())
	}
	self := procGroup{label: "self", pid: os.Getpid()}
	before, err := self.cpu()
	if err != nil {
		t.Fatal(err)
	}
	burn(300 * time.Millisecond)
	after, err := self.cpu()
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 100*time.Millisecond {
		t.Fatalf("busy 300ms, counted %s", after-before)
	}

	// A child that burns CPU: counted with children, not without, while
	// it runs (once reaped, its time is the parent's cutime instead).
	child := exec.Command(os.Args[0], "-test.run=^TestHelperBurn$")
	child.Env = append(os.Environ(), "FREEZER_BENCH_BURN=1")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	with := procGroup{label: "with", pid: os.Getpid(), children: true}
	w0, err := with.cpu()
	if err != nil {
		t.Fatal(err)
	}
	s0, _ := self.cpu()
	// Wait for the child to have been counted 200ms of CPU, however long a
	// loaded machine makes that take (bounded: the child burns 10s).
	var w1, s1 time.Duration
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		w1, _ = with.cpu()
		s1, _ = self.cpu()
		if (w1-w0)-(s1-s0) >= 200*time.Millisecond {
			return
		}
	}
	t.Fatalf("busy child: group with children grew %s, self %s", w1-w0, s1-s0)
}

// TestHelperBurn is the busy child of the test above.
func TestHelperBurn(t *testing.T) {
	if os.Getenv("FREEZER_BENCH_BURN") != "1" {
		t.Skip("helper process")
	}
	burn(10 * time.Second)
}

func TestCPUMeterPer(t *testing.T) {
	m := startCPU([]procGroup{{label: "server", pid: os.Getpid()}, {label: "gone", pid: 1 << 30}})
	burn(100 * time.Millisecond)
	if got := m.per(0); got != "" {
		t.Fatalf("no requests: %q", got)
	}
	got := m.per(10)
	if !strings.HasPrefix(got, "server ") || strings.Contains(got, "gone") || !strings.Contains(got, "machine ") {
		t.Fatalf("per(10) = %q", got)
	}
}
