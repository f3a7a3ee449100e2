//go:build windows

package main

import (
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
)

// The control loop alone, without a service control manager.
func TestServiceControls(t *testing.T) {
	sigs := make(chan os.Signal, 4)
	s := &service{sigs: sigs, exit: make(chan struct{})}
	req := make(chan svc.ChangeRequest)
	status := make(chan svc.Status, 8)
	done := make(chan struct{})
	go func() { s.Execute(nil, req, status); close(done) }()
	if st := <-status; st.State != svc.Running || st.Accepts&svc.AcceptStop == 0 {
		t.Fatalf("first status %+v", st)
	}
	req <- svc.ChangeRequest{Cmd: svc.ParamChange}
	if sig := <-sigs; sig != syscall.SIGHUP {
		t.Errorf("paramchange sent %v", sig)
	}
	req <- svc.ChangeRequest{Cmd: svc.Stop}
	if st := <-status; st.State != svc.StopPending {
		t.Errorf("stop: status %+v", st)
	}
	if sig := <-sigs; sig != syscall.SIGTERM {
		t.Errorf("stop sent %v", sig)
	}
	close(s.exit)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Execute did not return")
	}
}
