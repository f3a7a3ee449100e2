package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeConf(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "freezer-api.conf")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe for the server goroutine's logs.
type syncBuffer struct {
	ch chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.ch <- struct{}{}
	defer func() { <-s.ch }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.ch <- struct{}{}
	defer func() { <-s.ch }()
	return s.b.String()
}

func TestServeNoauthAndGracefulShutdown(t *testing.T) {
	db := filepath.Join(t.TempDir(), "api.db")
	conf := writeConf(t, fmt.Sprintf(`[DEFAULT]
bind_host = 127.0.0.1
bind_port = 0
unknown_option_of_another_library = 1
[api]
auth_strategy = noauth
[noauth]
project_id = quick
[database]
connection = sqlite:///%s
[oslo_messaging_rabbit]
rabbit_host = ignored
`, db))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	code := make(chan int, 1)
	logs := &syncBuffer{ch: make(chan struct{}, 1)}
	go func() {
		// With neither log_file, log_dir, use_stderr nor use_journal, oslo.log
		// logs to standard output.
		code <- run(ctx, []string{"--config-file", conf}, logs, io.Discard, func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case c := <-code:
		t.Fatalf("exited %d: %s", c, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	res, err := http.Post(base+"/v2/quick/clients/", "application/json", strings.NewReader(`{"client_id":"quick_host"}`))
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("register client: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.Get(base + "/v2/quick/clients")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `"client_id":"quick_host"`) {
		t.Fatalf("list: %s", b)
	}
	if !strings.Contains(logs.String(), "INSECURE") {
		t.Fatalf("noauth not logged as insecure:\n%s", logs.String())
	}
	cancel() // what SIGTERM does
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit code %d: %s", c, logs.String())
		}
	case <-time.After(35 * time.Second):
		t.Fatal("no shutdown")
	}
	if _, err := http.Get(base + "/healthcheck"); err == nil {
		t.Fatal("still listening after shutdown")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Fatalf("no shutdown log:\n%s", logs.String())
	}
}

func TestCommandLine(t *testing.T) {
	var out, errb bytes.Buffer
	if c := run(context.Background(), []string{"--print-sample-config"}, &out, &errb, nil); c != 0 {
		t.Fatalf("sample: %d %s", c, errb.String())
	}
	for _, want := range []string{"[DEFAULT]", "#bind_port = 9090", "[database]", "#connection = sqlite:///freezer-api.db", "[keystone_authtoken]", "[oslo_policy]", "#policy_file = policy.yaml"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sample lacks %q", want)
		}
	}
	out.Reset()
	if c := run(context.Background(), []string{"--help"}, &out, io.Discard, nil); c != 0 {
		t.Errorf("--help: exit %d", c)
	}
	for _, want := range []string{"usage: freezer-api [options]", "Configuration files:\n  --config-file FILE", "  --bind-port BIND_PORT\n",
		"[api] options:", "--backend, --storage-backend BACKEND", "Accepted but has no effect here: only the SQL", "  --print-policy\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
	if c := run(context.Background(), []string{"--no-such-flag"}, io.Discard, io.Discard, nil); c != 2 {
		t.Errorf("unknown flag: exit %d", c)
	}
	if c := run(context.Background(), []string{"--config-file", "/nonexistent/freezer-api.conf"}, io.Discard, io.Discard, nil); c != 2 {
		t.Errorf("missing config file: exit %d", c)
	}
	bad := writeConf(t, "[DEFAULT]\nbind_port = many\n")
	errb.Reset()
	if c := run(context.Background(), []string{"--config-file", bad}, io.Discard, &errb, nil); c != 2 || !strings.Contains(errb.String(), "bind_port") {
		t.Errorf("bad option: exit %d: %s", c, errb.String())
	}
	// An outdated MySQL/SQLite schema is refused unless empty SQLite.
	db := filepath.Join(t.TempDir(), "x.db")
	conf := writeConf(t, fmt.Sprintf("[DEFAULT]\nbind_host=127.0.0.1\nbind_port=0\n[api]\nauth_strategy=keystone\n[database]\nconnection=sqlite:///%s\n[keystone_authtoken]\nauth_url=http://127.0.0.1:1/v3\nusername=x\npassword=topsecret\n", db))
	errb.Reset()
	out.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if c := run(ctx, []string{"--config-file", conf}, &out, &errb, nil); c != 1 {
		t.Errorf("unreachable keystone: exit %d", c)
	}
	if strings.Contains(errb.String()+out.String(), "topsecret") {
		t.Error("password logged")
	}
}

// A freezer-api.conf as kolla writes it sets log_dir only: the log is
// <log_dir>/freezer-api.log, nothing goes to standard output or error.
func TestLogDirAsKolla(t *testing.T) {
	dir := t.TempDir()
	conf := writeConf(t, fmt.Sprintf("[DEFAULT]\nlog_dir = %s\ndebug = True\nbind_host=127.0.0.1\nbind_port=0\n[api]\nauth_strategy=keystone\n[database]\nconnection=sqlite:///%s\n[keystone_authtoken]\nauth_url=http://127.0.0.1:1/v3\nusername=x\npassword=pw\n",
		dir, filepath.Join(dir, "x.db")))
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if c := run(ctx, []string{"--config-file", conf}, &out, &errb, nil); c != 1 {
		t.Errorf("unreachable keystone: exit %d", c)
	}
	if out.Len() != 0 || errb.Len() != 0 {
		t.Errorf("logged to standard output %q or error %q", out.String(), errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "freezer-api.log"))
	if err != nil || !strings.Contains(string(b), "level=error") {
		t.Errorf("<log_dir>/freezer-api.log: %v %q", err, b)
	}
}

// The API's GC defaults apply only when neither GOGC nor GOMEMLIMIT is set.
func TestTuneGC(t *testing.T) {
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
	env := func(vars ...string) func(string) (string, bool) {
		return func(k string) (string, bool) { return "1", slices.Contains(vars, k) }
	}
	for _, set := range [][]string{{"GOGC"}, {"GOMEMLIMIT"}, {"GOGC", "GOMEMLIMIT"}} {
		tuneGC(env(set...))
		if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); p != 100 || l != math.MaxInt64 {
			t.Fatalf("with %v set: GOGC %d, limit %d; want the runtime's 100, none", set, p, l)
		}
	}
	tuneGC(env())
	if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); p != defaultGCPercent || l != defaultMemoryLimit {
		t.Fatalf("unset: GOGC %d, limit %d; want %d, %d", p, l, defaultGCPercent, defaultMemoryLimit)
	}
}
