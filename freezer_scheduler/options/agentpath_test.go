package options

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The default agent lookup of each platform, run on Linux: next to the
// scheduler first, under the platform's executable name, then PATH under
// that name too.
func TestAgentPathPerPlatform(t *testing.T) {
	p, err := Parse([]string{"--config-dir", t.TempDir(), "start"}, noEnv, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(dir, name string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("agent"), mode); err != nil {
			t.Fatal(err)
		}
	}
	var asked []string
	onPath := func(name string) (string, error) {
		asked = append(asked, name)
		return "/opt/bin/" + name, nil
	}
	notOnPath := func(name string) (string, error) {
		asked = append(asked, name)
		return "", errors.New("executable file not found in %PATH%")
	}

	// Windows: freezer-agent.exe beside freezer-scheduler.exe, with no
	// execute bit (Windows has none), is the agent; a suffixless
	// freezer-agent there is not one Windows would run.
	win := t.TempDir()
	put(win, "freezer-agent", 0o755)
	put(win, "freezer-agent.exe", 0o644)
	asked = nil
	if got, err := p.agentPath("windows", filepath.Join(win, "freezer-scheduler.exe"), notOnPath); err != nil || got != filepath.Join(win, "freezer-agent.exe") {
		t.Errorf("windows, beside the scheduler: %q, %v", got, err)
	}
	if len(asked) != 0 {
		t.Errorf("windows: PATH searched although the agent is beside the scheduler: %q", asked)
	}
	// Not beside it: PATH, asked for the .exe name.
	asked = nil
	if got, err := p.agentPath("windows", filepath.Join(t.TempDir(), "freezer-scheduler.exe"), onPath); err != nil || got != "/opt/bin/freezer-agent.exe" {
		t.Errorf("windows, from PATH: %q, %v", got, err)
	}
	if len(asked) != 1 || asked[0] != "freezer-agent.exe" {
		t.Errorf("windows: PATH asked for %q, want freezer-agent.exe", asked)
	}
	_, err = p.agentPath("windows", "", notOnPath)
	if err == nil || !strings.Contains(err.Error(), "freezer-agent.exe") || !strings.Contains(err.Error(), "agent_path") {
		t.Errorf("windows, nowhere: %v", err)
	}

	// Linux (and every other Unix): freezer-agent with an execute bit; a
	// freezer-agent.exe or a non-executable freezer-agent is not it.
	unix := t.TempDir()
	put(unix, "freezer-agent.exe", 0o755)
	put(unix, "freezer-agent", 0o644)
	asked = nil
	if got, err := p.agentPath("linux", filepath.Join(unix, "freezer-scheduler"), onPath); err != nil || got != "/opt/bin/freezer-agent" {
		t.Errorf("linux, non-executable beside: %q, %v", got, err)
	}
	if len(asked) != 1 || asked[0] != "freezer-agent" {
		t.Errorf("linux: PATH asked for %q, want freezer-agent", asked)
	}
	if err := os.Chmod(filepath.Join(unix, "freezer-agent"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := p.agentPath("freebsd", filepath.Join(unix, "freezer-scheduler"), notOnPath); err != nil || got != filepath.Join(unix, "freezer-agent") {
		t.Errorf("freebsd, beside the scheduler: %q, %v", got, err)
	}
	// A directory of that name is not the agent.
	dirs := t.TempDir()
	if err := os.Mkdir(filepath.Join(dirs, "freezer-agent.exe"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := p.agentPath("windows", filepath.Join(dirs, "freezer-scheduler.exe"), onPath); err != nil || got != "/opt/bin/freezer-agent.exe" {
		t.Errorf("windows, a directory beside: %q, %v", got, err)
	}

	// agent_path set wins on every platform.
	q, err := Parse([]string{"--config-dir", t.TempDir(), "--agent-path", `C:\Freezer\agent.exe`, "start"}, noEnv, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := q.agentPath("windows", filepath.Join(win, "freezer-scheduler.exe"), onPath); got != `C:\Freezer\agent.exe` {
		t.Errorf("agent_path ignored: %q", got)
	}
}
