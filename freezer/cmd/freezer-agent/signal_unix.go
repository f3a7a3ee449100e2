//go:build unix

package main

import (
	"os"
	"syscall"
	"time"
)

func reraise(s os.Signal) {
	if sig, ok := s.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), sig)
		time.Sleep(time.Second) // the default action ends the process
	}
	os.Exit(130)
}
