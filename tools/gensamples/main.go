package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"freezer.dev/freezer/internal/config"
)

func main() {
	os.Exit(run())
}

// options are gensamples' command line.
func options() config.Schema {
	return config.Schema{
		{Name: "check", Type: config.Bool, CLIOnly: true, Help: "Compare instead of writing; exit 1 when a sample drifted."},
		{Name: "bin", CLIOnly: true, Metavar: "DIR", Help: "Directory holding the built programs (default: build them into a temporary directory)."},
		config.HelpOpt(""),
	}
}

func run() int {
	v, rest, err := options().ParseCommandLine(os.Args[1:])
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensamples:", err)
		return 2
	}
	if v.Bool("", "help") {
		config.WriteHelp(os.Stdout, config.Help{Usage: "go run ./tools/gensamples [--check] [--bin DIR]",
			Description: "Writes etc/freezer/*.sample from the programs' option schemas."}, options())
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	drifted, err := generate(ctx, v.String("", "bin"), v.Bool("", "check"))
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
