//go:build integration

package server_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// TestHorizonPanelAPILayer drives our API with the Horizon Freezer panel's
// own API layer (disaster_recovery.api.api from Debian
// python3-freezer-web-ui, the code the panel's views and REST endpoints
// call) behind the real Keystone: clients, actions, jobs (create per
// client, start, stop, edit, clone, remove and put back actions),
// sessions, backups (list, detail, search, restore, delete). The checks are
// in testdata/horizon_panel.py; the panel's views and templates are not
// rendered.
func TestHorizonPanelAPILayer(t *testing.T) {
	env := testenv.Load(t)
	k := serviceKeystone(t, env)
	e := newEnv(t, func(c *server.Config) { c.Auth = k })
	script, err := filepath.Abs("testdata/horizon_panel.py")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Debian's interpreter and packages: no pyenv or virtualenv on PATH.
	tag := fmt.Sprintf("hz%d", time.Now().UnixNano()%1e9) // no "_": the panel splits client ids on it
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, tag)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "PYTHONWARNINGS=ignore",
		"FREEZER_API_URL=" + e.url}, env.OSEnv("DEMO")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the panel's API layer against our API: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "panel: ok") {
		t.Fatalf("no success line:\n%s", out)
	}
}
