package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
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

func burn(d time.Duration) {
	x := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		x++
	}
	_ = x
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
	time.Sleep(1500 * time.Millisecond)
	w1, _ := with.cpu()
	s1, _ := self.cpu()
	if (w1-w0)-(s1-s0) < 200*time.Millisecond {
		t.Fatalf("child busy for 1.5s: group with children grew %s, self %s", w1-w0, s1-s0)
	}
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
