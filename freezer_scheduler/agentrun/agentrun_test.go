//go:build unix

package agentrun

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWriteINI(t *testing.T) {
	var b strings.Builder
	err := WriteINI(&b, map[string]any{
		"action": "backup", "mode": "fs", "max_level": float64(3), "ratio": 0.5,
		"encrypt": true, "quiet": false, "skipped": nil, "path_to_backup": "/srv/a dir",
		"note": "line1\nline2", "exclude": []any{"*.tmp", "*.log"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "[action]\naction = backup\nencrypt = True\nexclude = [\"*.tmp\",\"*.log\"]\nmax_level = 3\nmode = fs\n" +
		"note = line1\n\tline2\npath_to_backup = /srv/a dir\nquiet = False\nratio = 0.5\n\n"
	if b.String() != want {
		t.Errorf("WriteINI:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := WriteINI(&b, map[string]any{"bad=key": "x"}); err == nil {
		t.Error("a key with '=' was accepted")
	}
}

// The agent reads the job file with configparser's %-interpolation
// (freezer/agent/cli: TestJobINIReadsWriteINIEscapes reads these lines
// back), so every "%" must reach it as "%%". Upstream's scheduler refuses
// the first and fourth values ("invalid interpolation syntax") and lets the
// agent expand the others.
func TestWriteINIEscapesPercent(t *testing.T) {
	for _, c := range []struct {
		value any
		want  string
	}{
		{"100%", "v = 100%%\n"},
		{"100%%", "v = 100%%%%\n"},
		{"%(x)s/%(backup_name)s", "v = %%(x)s/%%(backup_name)s\n"},
		{"a%b%%c%(x)s", "v = a%%b%%%%c%%(x)s\n"},
		{"50%\nof %(x)s", "v = 50%%\n\tof %%(x)s\n"},
		{[]any{"*%.tmp"}, "v = [\"*%%.tmp\"]\n"},
	} {
		var b strings.Builder
		if err := WriteINI(&b, map[string]any{"v": c.value}); err != nil {
			t.Fatal(err)
		}
		if want := "[action]\n" + c.want + "\n"; b.String() != want {
			t.Errorf("%q: wrote %q, want %q", c.value, b.String(), want)
		}
	}
}

// writeScript creates a shell script that stands in for freezer-agent; the
// runner's contract is about processes, not about what the agent does.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-agent")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFakeAgentReceivesPrivateJobFile(t *testing.T) {
	tmp := t.TempDir()
	files := Files{Base: filepath.Join(tmp, "job1-0")}
	agent := writeScript(t, `
[ "$1" = --metadata-out ] && [ "$2" = - ] && [ "$3" = --config ] || { echo "bad args: $*" >&2; exit 9; }
stat -c '%a' "$4" >&2
cat "$4" >&2
echo '{"backup_name": "b1", "container": "c"}'
echo "$FREEZER_TEST_MARK" >&2
`)
	r := &Runner{AgentPath: agent, Env: []string{"FREEZER_TEST_MARK=env-ok", "PATH=/usr/bin:/bin"}}
	p, err := r.Start(context.Background(), files, map[string]any{"action": "backup", "os_password": "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	res := p.Wait()
	if !res.Success() || res.ExitCode != 0 {
		t.Fatalf("result %+v", res)
	}
	if !strings.HasPrefix(res.StderrTail, "600\n[action]\naction = backup\nos_password = s3cret\n") || !strings.Contains(res.StderrTail, "env-ok") {
		t.Errorf("agent saw: %q", res.StderrTail)
	}
	if strings.TrimSpace(string(res.Stdout)) != `{"backup_name": "b1", "container": "c"}` {
		t.Errorf("stdout %q", res.Stdout)
	}
	if _, err := os.Stat(files.INI()); !os.IsNotExist(err) {
		t.Errorf("job file left behind: %v", err)
	}
	if b, _ := os.ReadFile(files.RC()); strings.TrimSpace(string(b)) != "0" {
		t.Errorf("rc file %q", b)
	}
}

func TestFakeAgentFailureKeepsStderrTail(t *testing.T) {
	agent := writeScript(t, `i=0; while [ $i -lt 3000 ]; do echo "noise line $i" >&2; i=$((i+1)); done
echo "Critical Error: path /nope does not exist" >&2; exit 1`)
	r := &Runner{AgentPath: agent, Env: []string{"PATH=/usr/bin:/bin"}}
	p, err := r.Start(context.Background(), Files{Base: filepath.Join(t.TempDir(), "r")}, map[string]any{"action": "backup"})
	if err != nil {
		t.Fatal(err)
	}
	res := p.Wait()
	if res.Success() || res.ExitCode != 1 || res.Aborted {
		t.Fatalf("result %+v", res)
	}
	if len(res.StderrTail) > maxStderrTail || !strings.HasSuffix(res.StderrTail, "Critical Error: path /nope does not exist\n") {
		t.Errorf("stderr tail (%d bytes) ends %q", len(res.StderrTail), res.StderrTail[max(0, len(res.StderrTail)-80):])
	}
}

func alive(pid int) bool {
	// A zombie still answers kill(0); read its state instead.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func TestFakeAgentAbortKillsTheProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	// The agent ignores SIGTERM and has a child: both must be gone after
	// the grace period.
	agent := writeScript(t, `trap '' TERM
sleep 60 & echo $! > `+pidFile+`
while :; do sleep 1; done`)
	r := &Runner{AgentPath: agent, Env: []string{"PATH=/usr/bin:/bin"}, AbortGrace: 500 * time.Millisecond}
	p, err := r.Start(context.Background(), Files{Base: filepath.Join(t.TempDir(), "r")}, map[string]any{"action": "backup"})
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for i := 0; i < 100 && child == 0; i++ {
		b, _ := os.ReadFile(pidFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(20 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("fake agent did not start its child")
	}
	start := time.Now()
	p.Abort()
	p.Abort() // harmless
	res := p.Wait()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("abort took %s", took)
	}
	if !res.Aborted || res.Success() || res.ExitCode >= 0 {
		t.Errorf("result %+v", res)
	}
	deadline := time.Now().Add(2 * time.Second)
	for alive(child) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(child) {
		syscall.Kill(child, syscall.SIGKILL)
		t.Error("the agent's child survived the abort")
	}
}

func TestFakeAgentContextCancelAborts(t *testing.T) {
	agent := writeScript(t, `exec sleep 60`)
	r := &Runner{AgentPath: agent, Env: []string{"PATH=/usr/bin:/bin"}}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := r.Start(ctx, Files{Base: filepath.Join(t.TempDir(), "r")}, map[string]any{"action": "backup"})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled run still going")
	}
	if res := p.Wait(); !res.Aborted || res.ExitCode != -int(syscall.SIGTERM) {
		t.Errorf("result %+v", res)
	}
}

// A run longer than MaxRun is stopped and fails: TimedOut, not Aborted
// (an abort is the operator's; a time-out is a failure the job may retry).
func TestFakeAgentMaxRunStopsTheRun(t *testing.T) {
	agent := writeScript(t, `exec sleep 60`)
	r := &Runner{AgentPath: agent, Env: []string{"PATH=/usr/bin:/bin"}, MaxRun: 300 * time.Millisecond}
	start := time.Now()
	p, err := r.Start(context.Background(), Files{Base: filepath.Join(t.TempDir(), "r")}, map[string]any{"action": "backup"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a run past MaxRun still going")
	}
	res := p.Wait()
	if !res.TimedOut || res.Aborted || res.Success() {
		t.Errorf("result %+v", res)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s with MaxRun 300ms", took)
	}
	// A quick run is not touched.
	r.AgentPath = writeScript(t, `exit 0`)
	p, err = r.Start(context.Background(), Files{Base: filepath.Join(t.TempDir(), "q")}, map[string]any{"action": "backup"})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.Wait(); !res.Success() {
		t.Errorf("quick run %+v", res)
	}
}

func TestStartErrors(t *testing.T) {
	tmp := t.TempDir()
	if _, err := (&Runner{}).Start(context.Background(), Files{Base: filepath.Join(tmp, "r")}, nil); err == nil {
		t.Error("no agent path accepted")
	}
	_, err := (&Runner{AgentPath: filepath.Join(tmp, "missing")}).Start(context.Background(), Files{Base: filepath.Join(tmp, "r")}, map[string]any{})
	if err == nil {
		t.Fatal("missing agent accepted")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("job file left behind after a failed start: %v", left)
	}
}

func TestFakeAgentAdoptedAfterSchedulerLoss(t *testing.T) {
	dir := t.TempDir()
	files := Files{Base: filepath.Join(dir, "job-0")}
	release := filepath.Join(dir, "release")
	agent := writeScript(t, `while [ ! -e `+release+` ]; do sleep 0.05; done
echo '{"backup_name": "adopted"}'; exit 0`)
	r := &Runner{AgentPath: agent, Env: []string{"PATH=/usr/bin:/bin"}}
	p, err := r.Start(context.Background(), files, map[string]any{"action": "backup"})
	if err != nil {
		t.Fatal(err)
	}
	// A new scheduler knows only the pid and the files.
	if !IsRun(p.Pid(), files) || IsRun(p.Pid(), Files{Base: filepath.Join(dir, "other")}) || IsRun(os.Getpid(), files) {
		t.Fatal("IsRun does not recognise the run")
	}
	a := Adopt(p.Pid(), files, time.Second)
	select {
	case <-a.Done():
		t.Fatal("adopted run reported done while the agent runs")
	case <-time.After(300 * time.Millisecond):
	}
	os.WriteFile(release, nil, 0o600)
	p.Wait() // reap our child so that the pid really goes away
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("adopted run never finished")
	}
	res := a.Wait()
	if !res.Success() || strings.TrimSpace(string(res.Stdout)) != `{"backup_name": "adopted"}` {
		t.Errorf("adopted result %+v", res)
	}

	// A run whose wrapper is gone and left no status is lost, not a success.
	lost := Files{Base: filepath.Join(dir, "lost")}
	os.WriteFile(lost.Out(), []byte("{}"), 0o600)
	if res := Adopt(999999999, lost, time.Second).Wait(); !res.Lost || res.Success() {
		t.Errorf("lost run result %+v", res)
	}
}

// Upstream split its command line on spaces; an agent and a job directory
// with spaces (and a quote) in their paths must work.
func TestFakeAgentPathWithSpaces(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my agent's dir")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(dir, "freezer agent")
	os.WriteFile(agent, []byte("#!/bin/sh\n[ -f \"$4\" ] && echo ok\n"), 0o755)
	r := &Runner{AgentPath: agent, Env: []string{"PATH=/usr/bin:/bin"}}
	p, err := r.Start(context.Background(), Files{Base: filepath.Join(dir, "run 1")}, map[string]any{"action": "backup"})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.Wait(); !res.Success() || strings.TrimSpace(string(res.Stdout)) != "ok" {
		t.Errorf("result %+v", res)
	}
}
