//go:build pprof

package main

// Built with -tags pprof, freezer-agent writes a CPU profile to the file in
// FREEZER_AGENT_CPUPROFILE, for finding where a backup or restore spends
// its time. Release builds do not contain it.

import (
	"fmt"
	"os"
	"runtime/pprof"
)

func init() {
	path := os.Getenv("FREEZER_AGENT_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "cpu profile: %v\n", err)
		f.Close()
		return
	}
	stopProfile = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
