package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

// runCLI runs the agent's command line in-process with no storage wired.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	logger := logrus.New()
	logger.SetOutput(&bytes.Buffer{})
	code = Run(context.Background(), Env{Args: args, Stdout: &out, Stderr: &errb, Getenv: os.Getenv, Log: logger})
	return code, out.String(), errb.String()
}

func TestHelpVersionAndBadArgs(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"--path-to-backup", "--no-incremental", "--encryption-format", "Exit status:", "4    integrity failure", "[storage:NAME]", "OS_AUTH_URL"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if code, out, _ := runCLI(t, "--version"); code != 0 || strings.TrimSpace(out) == "" {
		t.Errorf("--version: %d %q", code, out)
	}
	code, _, errOut := runCLI(t, "--blabla")
	if code != ExitUsage || !strings.Contains(errOut, "unrecognized arguments") {
		t.Errorf("--blabla: exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runCLI(t); code != ExitUsage {
		t.Errorf("no args: exit %d", code)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"--action", "backup", "--storage", "local", "--container", t.TempDir()},                        // no backup name
		{"--action", "restore", "--backup-name", "b", "--storage", "local", "--container", t.TempDir()}, // no restore path
		{"--action", "admin", "--backup-name", "b", "--storage", "local", "--container", t.TempDir()},   // no cutoff
		{"--action", "restore", "--backup-name", "b", "--restore-from-date", "yesterday"},               // bad date
		{"--action", "exec"}, // no command
		{"--action", "backup", "--mode", "oracle", "--backup-name", "b", "--path-to-backup", t.TempDir()}, // mode
	} {
		code, _, errOut := runCLI(t, args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errOut)
		}
		if !strings.HasPrefix(errOut, "Critical Error: ") {
			t.Errorf("%v: stderr %q", args, errOut)
		}
	}
	// --quiet suppresses the message but not the status.
	code, _, errOut := runCLI(t, "--action", "exec", "--quiet")
	if code != ExitUsage || errOut != "" {
		t.Errorf("quiet: exit %d, stderr %q", code, errOut)
	}
}

func TestExecPropagatesExitStatus(t *testing.T) {
	code, out, _ := runCLI(t, "--action", "exec", "--command", "echo hello 'with spaces'; exit 0")
	if code != 0 || strings.TrimSpace(out) != "hello with spaces" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if code, _, _ := runCLI(t, "--action", "exec", "--command", "exit 7"); code != 7 {
		t.Fatalf("exit %d, want 7", code)
	}
	// With --metadata-out -, stdout is the JSON channel: the command's
	// output goes to stderr, and exec has no result to write.
	code, out, errOut := runCLI(t, "--action", "exec", "--metadata-out", "-", "--command", "echo on-stderr")
	if code != 0 || out != "" || !strings.Contains(errOut, "on-stderr") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// A path with a space, which upstream's split-on-space breaks.
	dir := filepath.Join(t.TempDir(), "a dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "--action", "exec", "--command", "touch '"+dir+"/made'"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "made")); err != nil {
		t.Fatal(err)
	}
}

func TestConfigFileDrivesExec(t *testing.T) {
	job := writeFile(t, "job.ini", "[action]\naction = exec\ncommand = exit 5\n")
	if code, _, _ := runCLI(t, "--config", job); code != 5 {
		t.Fatalf("exit %d, want 5", code)
	}
	// The command line wins over the file.
	if code, _, _ := runCLI(t, "--config", job, "--command", "exit 0"); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
}

// An option the agent accepts but ignores says so: in --help, and as a
// warning log line on stderr when a run sets it (not with --metadata-out -,
// whose stderr a scheduler takes for a failure, nor with --quiet).
func TestNoEffectOptionsWarn(t *testing.T) {
	_, out, _ := runCLI(t, "--help")
	if !strings.Contains(out, "--lvm-auto-snap LVM_AUTO_SNAP") || !strings.Contains(out, "has no effect") {
		t.Errorf("--help does not say --lvm-auto-snap has no effect:\n%s", out)
	}
	code, _, errOut := runCLI(t, "--action", "exec", "--command", "true", "--lvm-auto-snap", "/data", "--watch-log-file")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"level=warning", "option=--lvm-auto-snap", "option=--watch-log-file", "--snapshot"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
	// The default of an ignored option, or a false boolean, asks for nothing.
	if code, _, errOut := runCLI(t, "--action", "exec", "--command", "true", "--nowatch-log-file"); code != 0 || errOut != "" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	// --lvm-snapsize is effective (with --snapshot lvm): no warning.
	if code, _, errOut := runCLI(t, "--action", "exec", "--command", "true", "--lvm-snapsize", "2G"); code != 0 || errOut != "" {
		t.Errorf("--lvm-snapsize: exit %d, stderr %q", code, errOut)
	}
	for _, quiet := range [][]string{{"--quiet"}, {"--metadata-out", "-"}} {
		args := append([]string{"--action", "exec", "--command", "true", "--lvm-auto-snap", "/data"}, quiet...)
		if code, _, errOut := runCLI(t, args...); code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", quiet, code, errOut)
		}
	}
}
