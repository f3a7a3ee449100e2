package agentrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// AgentCapabilities is what `freezer-agent --print-capabilities` prints.
type AgentCapabilities struct {
	Engines           []string `json:"engines"`
	Modes             []string `json:"modes"`
	Storages          []string `json:"storages"`
	Compressions      []string `json:"compressions"`
	EncryptionFormats []string `json:"encryption_formats"`
	Snapshots         []string `json:"snapshots"`
}

// Capabilities asks the agent what it supports. An agent without
// --print-capabilities (upstream's Python agent) is an error; the caller
// then keeps its configured lists.
func (r *Runner) Capabilities(ctx context.Context) (AgentCapabilities, error) {
	var c AgentCapabilities
	if r.AgentPath == "" {
		return c, errors.New("no freezer-agent path configured")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.AgentPath, "--print-capabilities")
	cmd.Env = r.Env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return c, fmt.Errorf("%s --print-capabilities: %w: %s", r.AgentPath, err, strings.TrimSpace(errb.String()))
	}
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &c); err != nil {
		return c, fmt.Errorf("%s --print-capabilities: not our JSON: %w", r.AgentPath, err)
	}
	if len(c.Modes) == 0 || len(c.Engines) == 0 || len(c.Storages) == 0 {
		return c, fmt.Errorf("%s --print-capabilities: empty modes, engines or storages", r.AgentPath)
	}
	return c, nil
}
