//go:build unix

package agentrun

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// The ps(1) path of isRun (macOS, the BSDs) runs on Linux too.
func TestPSArgs(t *testing.T) {
	if _, err := exec.LookPath("ps"); err != nil {
		t.Fatalf("no ps(1): %v", err)
	}
	rc := filepath.Join(t.TempDir(), "job-7.rc")
	cmd := exec.Command("/bin/sh", "-c", "sleep 5", rc, "agent")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	args, ok := psArgs(cmd.Process.Pid)
	if !ok || !reflect.DeepEqual(args, []string{"/bin/sh", "-c", "sleep", "5", rc, "agent"}) {
		t.Errorf("psArgs = %q, %v", args, ok)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if args, ok := psArgs(cmd.Process.Pid); ok {
		t.Errorf("psArgs of an exited process = %q, true", args)
	}
}

func TestParsePS(t *testing.T) {
	for _, tc := range []struct {
		out  string
		args []string
		ok   bool
	}{
		{"S    /bin/sh -c x /run/job.rc\n", []string{"/bin/sh", "-c", "x", "/run/job.rc"}, true},
		{"Ss+ agent\n", []string{"agent"}, true},
		{"Z    [sh] <defunct>\n", nil, false},
		{"", nil, false},
	} {
		args, ok := parsePS(tc.out)
		if ok != tc.ok || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("parsePS(%q) = %q, %v", tc.out, args, ok)
		}
	}
}
