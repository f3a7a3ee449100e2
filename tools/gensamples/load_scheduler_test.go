package main

// The scheduler sample loads in freezer-scheduler (see load_test.go for
// the approach).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestSchedulerSampleLoadsInFreezerScheduler(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := program(t, sampleNamed(t, "scheduler.conf.sample"))
	for name, conf := range variants(t, root, t.TempDir(), "scheduler.conf.sample") {
		t.Run(name, func(t *testing.T) { schedulerLoads(t, bin, conf) })
	}
}

func schedulerLoads(t *testing.T, bin, conf string) {
	dir := t.TempDir()
	jobs := filepath.Join(dir, "conf.d")
	if err := os.Mkdir(jobs, 0o700); err != nil {
		t.Fatal(err)
	}
	override := writeFile(t, dir, "override.conf", fmt.Sprintf(`[scheduler]
no_api = true
jobs_dir = %s
interval = 1
`, jobs))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "freezer-scheduler"),
		"--config-file", conf, "--config-file", override, "--no-daemon", "start")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// A configuration error ends the program at once; a loaded one keeps
	// polling its (empty) jobs directory until SIGTERM.
	select {
	case err := <-exited:
		t.Fatalf("freezer-scheduler exited with the committed sample: %v\n%s", err, logs.String())
	case <-time.After(3 * time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("freezer-scheduler did not exit cleanly on SIGTERM: %v\n%s", err, logs.String())
		}
	case <-ctx.Done():
		t.Fatalf("freezer-scheduler ignored SIGTERM\n%s", logs.String())
	}
}
