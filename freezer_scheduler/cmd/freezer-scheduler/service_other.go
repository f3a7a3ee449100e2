//go:build !windows

package main

import "os"

// isService: only Windows has a service control manager to answer; see
// service_windows.go.
func isService() bool { return false }

func serveControls(chan<- os.Signal) (stopped func()) { return func() {} }
