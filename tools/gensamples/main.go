package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	os.Exit(run())
}

func run() int {
	check := flag.Bool("check", false, "compare instead of writing; exit 1 when a sample drifted")
	bin := flag.String("bin", "", "directory holding the built programs (default: build them into a temporary directory)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	drifted, err := generate(ctx, *bin, *check)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensamples:", err)
		return 2
	}
	if len(drifted) > 0 {
		for _, f := range drifted {
			fmt.Fprintf(os.Stderr, "gensamples: %s differs from the code; run `go run ./tools/gensamples`\n", f)
		}
		return 1
	}
	return 0
}

// generate renders every sample and writes it to etc/freezer, or with
// check only reports the files whose committed content differs. A sample
// whose program cannot print it is an error; the others are still written.
func generate(ctx context.Context, binDir string, check bool) (drifted []string, err error) {
	root, err := moduleRoot(".")
	if err != nil {
		return nil, err
	}
	built := map[string]error{}
	if binDir == "" {
		tmp, err := os.MkdirTemp("", "gensamples-")
		if err != nil {
			return nil, fmt.Errorf("creating a build directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		binDir = tmp
		for _, s := range allSamples() {
			if _, ok := built[s.Program]; s.Render == nil && !ok {
				built[s.Program] = buildProgram(ctx, root, binDir, s)
			}
		}
	}
	var errs []error
	for _, s := range allSamples() {
		if err := built[s.Program]; err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.File, err))
			continue
		}
		got, err := render(ctx, binDir, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.File, err))
			continue
		}
		rel := filepath.Join("etc", "freezer", s.File)
		path := filepath.Join(root, rel)
		if check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, got) {
				drifted = append(drifted, rel)
			}
			continue
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("writing %s: %w", path, err))
			continue
		}
		fmt.Printf("wrote %s (%d bytes)\n", rel, len(got))
	}
	return drifted, errors.Join(errs...)
}
