package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// sample is one generated file: which program prints it, with which
// flags, or which function renders it from the program's own option
// schema (when the program has no flag for it). Program and Package also
// name the program the load tests run the sample with.
type sample struct {
	File    string                 // name in etc/freezer
	Program string                 // binary name, also the last element of its package path
	Package string                 // package path of the program, relative to the module root
	Args    []string               // flags that make the program print the sample on stdout
	Render  func() ([]byte, error) // in-process renderer instead of running the program
}

// allSamples lists every file etc/freezer holds that is generated from code.
func allSamples() []sample {
	return []sample{
		{File: "freezer-api.conf.sample", Program: "freezer-api", Package: "./freezer_api/cmd/freezer-api", Args: []string{"--print-sample-config"}},
		{File: "policy.yaml.sample", Program: "freezer-api", Package: "./freezer_api/cmd/freezer-api", Args: []string{"--print-policy"}},
		{File: "freezer-agent-job.ini.sample", Program: "freezer-agent", Package: "./freezer/cmd/freezer-agent", Args: []string{"--print-sample-config"}},
		{File: "scheduler.conf.sample", Program: "freezer-scheduler", Package: "./freezer_scheduler/cmd/freezer-scheduler", Args: []string{"--print-sample-config"}},
	}
}

// moduleRoot walks up from dir to the directory holding go.mod.
func moduleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", dir, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

func buildProgram(ctx context.Context, root, binDir string, s sample) error {
	// -trimpath as in the Makefile, so that make build and this share the
	// compile cache.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(binDir, s.Program), s.Package)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %w\n%s", s.Package, err, out)
	}
	return nil
}

// render runs the program of s from binDir and returns what it printed. The
// environment is reduced to PATH so that no OS_* variable or locale leaks
// into a default.
func render(ctx context.Context, binDir string, s sample) ([]byte, error) {
	if s.Render != nil {
		return s.Render()
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, s.Program), s.Args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "LC_ALL=C"}
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("running %s %s: %w: %s", s.Program, strings.Join(s.Args, " "),
			err, strings.TrimSpace(stderr.String()))
	}
	if stdout.Len() == 0 {
		return nil, fmt.Errorf("%s %s printed nothing", s.Program, strings.Join(s.Args, " "))
	}
	return stdout.Bytes(), nil
}
