package agentrun

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Our agent answers --print-capabilities with what it runs.
func TestCapabilitiesOfOurAgent(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "freezer-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "freezer.dev/freezer/freezer/cmd/freezer-agent").CombinedOutput(); err != nil {
		t.Fatalf("building the agent: %v\n%s", err, out)
	}
	c, err := (&Runner{AgentPath: bin}).Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		list []string
		v    string
	}{{c.Modes, "fs"}, {c.Modes, "mysql"}, {c.Engines, "tar"}, {c.Storages, "swift"}, {c.Compressions, "zstd"}, {c.EncryptionFormats, "fzae1"}, {c.Snapshots, "btrfs"}} {
		found := false
		for _, v := range want.list {
			found = found || v == want.v
		}
		if !found {
			t.Errorf("%q missing from %v", want.v, want.list)
		}
	}
	for _, m := range c.Modes {
		if m == "sqlserver" || m == "nova" {
			t.Errorf("advertises mode %s, which it cannot run", m)
		}
	}
}

// An agent without the option (upstream's) is an error, not an empty list.
func TestCapabilitiesOfAnAgentWithoutTheOption(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "agent")
	os.WriteFile(fake, []byte("#!/bin/sh\necho 'freezer-agent: error: unrecognized arguments: --print-capabilities' >&2\nexit 2\n"), 0o755)
	if _, err := (&Runner{AgentPath: fake}).Capabilities(context.Background()); err == nil {
		t.Fatal("no error")
	}
}
