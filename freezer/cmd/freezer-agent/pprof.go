//go:build pprof

package main

// Built with -tags pprof, freezer-agent writes a CPU profile to the file in
// FREEZER_AGENT_CPUPROFILE and an execution trace (go tool trace) to the
// file in FREEZER_AGENT_TRACE, for finding where a backup or restore spends
// its time and which stage of its pipeline waits for which. Release builds
// do not contain it.

import (
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

func init() {
	var stops []func()
	if f := create("FREEZER_AGENT_CPUPROFILE"); f != nil {
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
			f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if f := create("FREEZER_AGENT_TRACE"); f != nil {
		if err := trace.Start(f); err != nil {
			fmt.Fprintf(os.Stderr, "trace: %v\n", err)
			f.Close()
		} else {
			stops = append(stops, func() { trace.Stop(); f.Close() })
		}
	}
	stopProfile = func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// create opens the file named by the environment variable, or returns nil.
func create(env string) *os.File {
	path := os.Getenv(env)
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", env, err)
		return nil
	}
	return f
}
