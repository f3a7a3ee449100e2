// Command freezer-agent backs up and restores files with the on-storage
// layout of OpenStack Freezer's agent. See `freezer-agent --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"

	"freezer.dev/freezer/freezer/agent/cli"
	"freezer.dev/freezer/internal/config"
)

// stopProfile flushes the CPU profile of a -tags pprof build (pprof.go);
// a release build has nothing to flush.
var stopProfile = func() {}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	var got atomic.Value
	go func() {
		s := <-sigc
		got.Store(s)
		cancel() // every stage stops; nothing is committed
	}()
	home, _ := os.UserHomeDir()
	code := cli.Run(ctx, cli.Env{
		// As oslo.config finds them for upstream's freezer-agent.
		DefaultConfigFiles: config.FindConfigFiles("freezer", "freezer-agent", home),
		DefaultConfigDirs:  config.FindConfigDirs("freezer", "freezer-agent", home),
		Args:               os.Args[1:],
		Getenv:             os.Getenv,
		Stdout:             os.Stdout,
		Stderr:             os.Stderr,
		StderrIsTerminal:   isTerminal(os.Stderr),
		Deps:               deps(),
		SetMemoryLimit:     setMemoryLimit,
	})
	stopProfile()
	if s, ok := got.Load().(os.Signal); ok {
		// Die by the signal, so a parent (the scheduler) sees the agent
		// was interrupted and not a plain failure.
		signal.Reset()
		reraise(s)
	}
	os.Exit(code)
}

// setMemoryLimit makes the agent's memory budget the runtime's soft limit,
// unless the operator chose one with GOMEMLIMIT.
func setMemoryLimit(bytes int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(bytes)
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
