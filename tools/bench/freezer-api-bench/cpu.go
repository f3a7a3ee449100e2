package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100
// on every Linux architecture Go supports).
const userHZ = 100

// procGroup is a set of processes whose CPU time a scenario is charged
// with: a server (uwsgi's master with the workers it forked) or the
// database. On 2 cores the load generator, the server and MariaDB share
// the machine, so the CPU each used per answered request says where a
// request's cost goes, which req/s alone does not.
type procGroup struct {
	label    string
	pid      int
	children bool
}

// cpu returns the CPU time (user + system) the group used so far.
func (g procGroup) cpu() (time.Duration, error) {
	ticks, _, err := procStat(g.pid)
	if err != nil {
		return 0, err
	}
	if g.children {
		paths, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, p := range paths {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			if err != nil || pid == g.pid {
				continue
			}
			t, ppid, err := procStat(pid)
			if err == nil && ppid == g.pid {
				ticks += t
			}
		}
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// procStat reads the user + system ticks and the parent of a process.
func procStat(pid int) (ticks uint64, ppid int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	ticks, ppid, err = parseStat(string(b))
	if err != nil {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return ticks, ppid, nil
}

// parseStat reads the ticks and the parent from a /proc/<pid>/stat line.
func parseStat(s string) (ticks uint64, ppid int, err error) {
	// The command name may hold spaces and parentheses: the fields
	// counted here start after its last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("no command name")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is the state (field 3 of proc(5)), so field n is f[n-3].
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("%d fields after the command name", len(f))
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, fmt.Errorf("ppid: %w", err)
	}
	utime, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("utime: %w", err)
	}
	stime, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("stime: %w", err)
	}
	return utime + stime, ppid, nil
}

// cpuMeter charges the groups' CPU time and the machine's busy time
// between start and per to the requests answered meanwhile.
type cpuMeter struct {
	groups []procGroup
	before []time.Duration
	read   []bool
	busy0  uint64
	busyOK bool
}

func startCPU(groups []procGroup) *cpuMeter {
	m := &cpuMeter{groups: groups, before: make([]time.Duration, len(groups)), read: make([]bool, len(groups))}
	for i, g := range groups {
		var err error
		m.before[i], err = g.cpu()
		m.read[i] = err == nil
	}
	var err error
	m.busy0, _, err = cpuTicks()
	m.busyOK = err == nil
	return m
}

// per returns a line such as "server 250µs, database 230µs, machine
// 560µs busy" for n requests, leaving out what could not be read.
func (m *cpuMeter) per(n int) string {
	if n <= 0 {
		return ""
	}
	var parts []string
	for i, g := range m.groups {
		after, err := g.cpu()
		if err != nil || !m.read[i] {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s", g.label, perRequest(after-m.before[i], n)))
	}
	if busy, _, err := cpuTicks(); err == nil && m.busyOK && busy >= m.busy0 {
		d := time.Duration(busy-m.busy0) * time.Second / userHZ
		parts = append(parts, "machine "+perRequest(d, n)+" busy")
	}
	return strings.Join(parts, ", ")
}

func perRequest(d time.Duration, n int) string {
	return (d / time.Duration(n)).Round(time.Microsecond).String()
}
