//go:build integration

package devstacktest

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/testenv"
)

// TestDevstackPluginPhases runs install, post-config, extra, unstack and
// clean against real Keystone and MariaDB, then python-freezerclient against
// the freezer-api the plugin started (see run.sh for the list of checks).
func TestDevstackPluginPhases(t *testing.T) {
	env := testenv.Load(t)
	// The keys run.sh reads; a missing one fails here with its name.
	for _, k := range []string{"OS_AUTH_URL", "ADMIN_OS_USERNAME", "ADMIN_OS_PASSWORD",
		"ADMIN_OS_PROJECT_NAME", "DEMO_OS_USERNAME", "DEMO_OS_PASSWORD", "DEMO_OS_PROJECT_NAME",
		"FREEZER_SVC_PASSWORD", "FREEZER_SVC_PROJECT_NAME", "MYSQL_HOST", "MYSQL_USER"} {
		env.Get(t, k)
	}
	if _, err := exec.LookPath("freezer"); err != nil {
		t.Fatalf("python-freezerclient's freezer CLI is needed (tools/testenv/install.sh): %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "run.sh")
	cmd.Env = append(os.Environ(), "FREEZER_TESTENV_ROOT="+env.Root)
	// run.sh cleans up on SIGTERM through its EXIT trap.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting run.sh: %v", err)
	}
	passes, fails := scan(t, out)
	err = cmd.Wait()
	for _, f := range fails {
		t.Errorf("FAIL: %s", f)
	}
	if err != nil {
		t.Fatalf("run.sh: %v (%d checks passed, %d failed)", err, len(passes), len(fails))
	}
	// A run that passes must have reached the end: unstack and clean checked.
	for _, want := range []string{"freezer job-list works", "unstack: no freezer process left", "clean:"} {
		if !containsPrefix(passes, want) {
			t.Errorf("no passing check %q in run.sh's output", want)
		}
	}
}

// scan logs run.sh's output line by line and collects its verdicts.
func scan(t *testing.T, r io.Reader) (passes, fails []string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		t.Log(line)
		if p, ok := strings.CutPrefix(line, "PASS: "); ok {
			passes = append(passes, p)
		}
		if f, ok := strings.CutPrefix(line, "FAIL: "); ok {
			fails = append(fails, f)
		}
	}
	return passes, fails
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
