package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The committed samples are what operators copy to /etc/freezer; each must
// load in the program that owns it, both as committed (all commented out)
// and with every setting uncommented (so every default it shows is a value
// the program accepts). The sample is given first, then a small override
// file with what a test needs (loopback port, SQLite in a temporary
// directory, no Keystone).

// variants returns the committed sample and its uncommented form, each
// written into dir.
func variants(t *testing.T, root, dir, file string) map[string]string {
	t.Helper()
	committed, err := os.ReadFile(filepath.Join(root, "etc", "freezer", file))
	if err != nil {
		t.Fatalf("reading the committed sample: %v", err)
	}
	return map[string]string{
		"as committed": writeFile(t, dir, "committed-"+file, string(committed)),
		"uncommented":  writeFile(t, dir, "uncommented-"+file, string(uncomment(committed))),
	}
}

func TestAPISamplesLoadInFreezerAPI(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := program(t, sampleNamed(t, "freezer-api.conf.sample"))
	dir := t.TempDir()
	confs := variants(t, root, dir, "freezer-api.conf.sample")
	policies := variants(t, root, dir, "policy.yaml.sample")
	for name, conf := range confs {
		t.Run(name, func(t *testing.T) { apiLoads(t, bin, conf, policies[name]) })
	}
}

func apiLoads(t *testing.T, bin, conf, policy string) {
	dir := t.TempDir()
	port := freePort(t)
	override := writeFile(t, dir, "override.conf", fmt.Sprintf(`[DEFAULT]
bind_host = 127.0.0.1
bind_port = %d
[api]
auth_strategy = noauth
[database]
connection = sqlite:///%s/freezer.db
[oslo_policy]
policy_file = %s
[healthcheck]
disable_by_file_path = %s/healthcheck_disable
`, port, dir, policy, dir))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "freezer-api"),
		"--config-file", conf, "--config-file", override)
	cmd.Dir = dir // a relative SQLite path in the sample lands here
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHTTP(ctx, base+"/healthcheck", exited); err != nil {
		t.Fatalf("freezer-api with the committed samples: %v\n%s", err, logs.String())
	}
	// The policy sample is in force: the noauth caller (member, reader of
	// its project) may list its own project's jobs.
	resp, err := http.Get(base + "/v2/noauth-project/jobs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/noauth-project/jobs = %d %s, want 200 under the sample policy", resp.StatusCode, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Errorf("freezer-api did not exit cleanly on SIGTERM: %v\n%s", err, logs.String())
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHTTP polls url until it answers 200, the process exits, or ctx ends.
func waitHTTP(ctx context.Context, url string, exited <-chan error) error {
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before serving: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no 200 from %s: %w", url, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
