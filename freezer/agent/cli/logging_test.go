package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The agent reads the oslo.log options as the API and the scheduler do
// (internal/logging tests syslog and the journal); the log never goes to
// standard output, which carries the action's output.
func TestLogOptions(t *testing.T) {
	dir := t.TempDir()
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return os.Getenv(k)
	}
	for _, c := range []struct {
		name   string
		args   []string
		file   string // relative to dir
		stderr bool
		re     string // a line of the log matches
	}{
		{name: "log_dir alone", args: []string{"--log-dir", dir}, file: "freezer-agent.log"},
		{name: "log_dir and log_file", args: []string{"--log-dir", dir, "--log-file", "x.log"}, file: "x.log"},
		{name: "log_date_format", args: []string{"--log-file", filepath.Join(dir, "d.log"), "--log-date-format", "%d/%m/%Y"}, file: "d.log",
			re: `time=\d\d/\d\d/\d{4} `},
		{name: "use_json", args: []string{"--log-file", filepath.Join(dir, "j.log"), "--use-json"}, file: "j.log", re: `"level":"info"`},
		{name: "use_stderr", args: []string{"--log-file", filepath.Join(dir, "e.log"), "--use-stderr"}, file: "e.log", stderr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"--action", "exec", "--command", "true"}, c.args...)
			if code := Run(context.Background(), Env{Args: args, Stdout: &out, Stderr: &errb, Getenv: getenv}); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			b, err := os.ReadFile(filepath.Join(dir, c.file))
			if err != nil || !strings.Contains(string(b), "freezer-agent finished") {
				t.Fatalf("%s: %v %q", c.file, err, b)
			}
			if c.re != "" && !regexp.MustCompile(c.re).Match(b) {
				t.Errorf("%s does not match %s: %q", c.file, c.re, b)
			}
			if got := strings.Contains(errb.String(), "freezer-agent finished"); got != c.stderr {
				t.Errorf("log on standard error: %v, want %v: %q", got, c.stderr, errb.String())
			}
			if strings.Contains(out.String(), "level=") {
				t.Errorf("log on standard output: %q", out.String())
			}
		})
	}
}

// --timeout bounds the running operation, as upstream documents it.
func TestTimeoutBoundsTheRun(t *testing.T) {
	start := time.Now()
	code, _, errOut := runCLI(t, "--action", "exec", "--command", "sleep 20", "--timeout", "1")
	if code == 0 || !strings.Contains(errOut, "--timeout") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if d := time.Since(start); d > 15*time.Second { // exec gives the command a grace period
		t.Errorf("took %s with --timeout 1", d)
	}
	if code, _, errOut := runCLI(t, "--action", "exec", "--command", "true", "--timeout", "5"); code != 0 {
		t.Errorf("a quick run with --timeout: exit %d %q", code, errOut)
	}
}
