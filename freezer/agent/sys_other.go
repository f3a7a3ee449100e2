//go:build !unix

package agent

import (
	"os"
	"os/exec"
)

// syncFilesystems has nothing portable to call here; files the engine reads
// are read through the OS cache anyway.
func syncFilesystems(string) {}

func terminate(p *os.Process) error { return p.Kill() }

func signalNumber(*exec.ExitError) int { return 0 }
