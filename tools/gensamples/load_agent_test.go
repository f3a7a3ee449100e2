package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The agent's job file sample, as committed and with every option
// uncommented, loads in freezer-agent: an info run on an empty local
// storage succeeds. Command-line options win over the job file, so the
// test names what it needs there.
func TestAgentSampleLoadsInFreezerAgent(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := program(t, sampleNamed(t, "freezer-agent-job.ini.sample"))
	for name, conf := range variants(t, root, t.TempDir(), "freezer-agent-job.ini.sample") {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, "freezer-agent"), "--config", conf,
				"--action", "info", "--storage", "local", "--container", filepath.Join(dir, "store"),
				"--backup-name", "sample", "--log-file", filepath.Join(dir, "agent.log"))
			cmd.Dir = dir
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("freezer-agent rejected the %s sample: %v\n%s", name, err, out)
			}
			if strings.Contains(string(out), "Critical Error") {
				t.Fatalf("freezer-agent reported an error: %s", out)
			}
		})
	}
}
