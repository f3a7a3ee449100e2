//go:build unix

package daemon

import (
	"os/exec"
	"strings"
	"testing"
)

// The ps(1) path of commandLine (macOS, the BSDs) runs on Linux too.
func TestPSCommandLine(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "sleep 5", "freezer-scheduler-test")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, ok := psCommandLine(cmd.Process.Pid)
	if !ok || !strings.Contains(line, "freezer-scheduler-test") {
		t.Errorf("psCommandLine = %q, %v", line, ok)
	}
	if proc, ok := commandLine(cmd.Process.Pid); !ok || !strings.Contains(proc, "freezer-scheduler-test") {
		t.Errorf("commandLine = %q, %v", proc, ok)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if line, ok := psCommandLine(cmd.Process.Pid); ok {
		t.Errorf("psCommandLine of an exited process = %q, true", line)
	}
}

func TestParsePS(t *testing.T) {
	for _, tc := range []struct {
		out, line string
		ok        bool
	}{
		{"Ss   /usr/bin/freezer-scheduler --config x start\n", "/usr/bin/freezer-scheduler --config x start", true},
		{"Z    [freezer-schedul] <defunct>\n", "", false},
		{"\n", "", false},
	} {
		if line, ok := parsePS(tc.out); line != tc.line || ok != tc.ok {
			t.Errorf("parsePS(%q) = %q, %v", tc.out, line, ok)
		}
	}
}
