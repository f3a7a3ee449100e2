// Package mongo is upstream's mongo mode: before an fs backup of the data
// directory it asks the MongoDB server on <hostname>:27017 (isMaster) and
// refuses unless this node is the replica set's primary; it takes no lock
// (upstream does not fsyncLock either), so use it with --snapshot for a
// consistent copy.
//
// The check runs the mongosh shell (or the legacy mongo shell) through an
// injected runner. There is no MongoDB here: the tests run against a fake
// runner (tests named ...Fake...), never a real server.
package mongo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
)

// Port is upstream's fixed port.
const Port = 27017

// Runner runs a command and returns its standard output.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// ExecRunner runs commands with os/exec.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", name, err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}

// Check is the mode's Hooks.
type Check struct {
	Host     string // --hostname
	Run      Runner // nil = ExecRunner
	LookPath func(string) (string, error)
}

// Name implements mode.Hooks.
func (*Check) Name() string { return "mongo" }

// isMaster is the part of the isMaster reply the check reads.
type isMaster struct {
	IsMaster bool   `json:"ismaster"`
	Me       string `json:"me"`
	Primary  string `json:"primary"`
	SetName  string `json:"setName"`
}

// ErrNotPrimary is returned when this node is not the primary.
var ErrNotPrimary = errors.New("this node is not the replica set's primary")

// Prepare implements mode.Hooks: the backup goes on only when the server
// says it is the primary (me == primary), as upstream.
func (c *Check) Prepare(ctx context.Context) error {
	run, look := c.Run, c.LookPath
	if run == nil {
		run = ExecRunner
	}
	if look == nil {
		look = exec.LookPath
	}
	shell := ""
	for _, s := range []string{"mongosh", "mongo"} {
		if _, err := look(s); err == nil {
			shell = s
			break
		}
	}
	if shell == "" {
		return errors.New("the mongo mode needs the mongosh (or mongo) shell to ask the server isMaster, and neither is installed")
	}
	addr := fmt.Sprintf("%s:%d", c.Host, Port)
	out, err := run(ctx, shell, "--quiet", "--host", addr, "--eval", "JSON.stringify(db.isMaster())")
	if err != nil {
		return fmt.Errorf("asking %s isMaster: %w", addr, err)
	}
	var r isMaster
	if err := json.Unmarshal(lastLine(out), &r); err != nil {
		return fmt.Errorf("asking %s isMaster: unexpected reply %q: %w", addr, out, err)
	}
	if r.Me == "" || r.Me != r.Primary {
		return fmt.Errorf("%s (me %q, primary %q): %w", addr, r.Me, r.Primary, ErrNotPrimary)
	}
	return nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// Release implements mode.Hooks; the check holds nothing.
func (*Check) Release(context.Context) error { return nil }
