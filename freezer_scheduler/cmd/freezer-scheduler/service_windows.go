//go:build windows

package main

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/windows/svc"
)

// stopWaitHint is how long the service control manager is told a stop may
// take: the scheduler aborts its agents first (CTRL_BREAK, then taskkill
// after the abort grace).
const stopWaitHint = time.Minute

// isService reports whether the service control manager started us: then
// "start" runs in the foreground, whatever no_daemon says.
func isService() bool {
	ok, err := svc.IsWindowsService()
	return err == nil && ok
}

// serveControls, when the scheduler runs as a Windows service, answers the
// service control manager: Stop and Shutdown arrive on sigs as SIGTERM (the
// scheduler aborts its agents and returns), a parameter change
// (sc.exe control <name> paramchange) as SIGHUP (reload). The returned
// function reports the service stopped; call it once the scheduler is done.
func serveControls(sigs chan<- os.Signal) (stopped func()) {
	if !isService() {
		return func() {}
	}
	s := &service{sigs: sigs, exit: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run("", s) // the name is ignored for a service in its own process
	}()
	return func() {
		close(s.exit)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
}

type service struct {
	sigs chan<- os.Signal
	exit chan struct{}
}

// Execute implements svc.Handler.
func (s *service) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	const accepts = svc.AcceptStop | svc.AcceptShutdown | svc.AcceptParamChange
	status <- svc.Status{State: svc.Running, Accepts: accepts}
	for {
		select {
		case <-s.exit:
			status <- svc.Status{State: svc.StopPending}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(stopWaitHint / time.Millisecond)}
				s.send(syscall.SIGTERM)
			case svc.ParamChange:
				s.send(syscall.SIGHUP)
			}
		}
	}
}

// send never blocks the control loop: sigs is buffered and read all along.
func (s *service) send(sig os.Signal) {
	select {
	case s.sigs <- sig:
	default:
	}
}
