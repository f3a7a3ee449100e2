package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// exec runs --command through the shell, so quoting, pipes and paths with
// spaces work (upstream splits on spaces and "|" itself). The command's
// exit status becomes the agent's (*ExitError). Cancelling ctx sends it
// SIGTERM, then SIGKILL after 10 s.
func (a *Agent) exec(ctx context.Context, o Options) (*Result, error) {
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd", "/C", o.Command)
	} else {
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", o.Command)
	}
	cmd.Cancel = func() error { return terminate(cmd.Process) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdin = nil
	cmd.Stdout = a.CommandStdout
	if cmd.Stdout == nil {
		cmd.Stdout = a.stdout()
	}
	cmd.Stderr = a.stderr()
	cmd.Env = os.Environ()
	a.log().WithField("command", o.Command).Info("running command")
	err := cmd.Run()
	if err == nil {
		return &Result{}, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("command interrupted: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			code = 128 + signalNumber(ee)
		}
		a.log().WithField("status", code).Warn("command failed")
		return nil, &ExitError{Code: code}
	}
	return nil, fmt.Errorf("running --command: %w", err)
}
