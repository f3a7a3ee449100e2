// Package testenv gives integration tests the addresses and credentials of
// the real services that tools/testenv/up.sh starts on loopback (Keystone,
// Swift with s3api, MariaDB, sshd, vsftpd, the upstream Python programs).
//
// up.sh writes them as KEY=VALUE lines to $FREEZER_TESTENV_ROOT/testenv.env
// (default /var/tmp/freezer-testenv). An integration test that cannot find
// the file, or a key in it, fails: it never skips, so a broken environment
// is never reported as a pass.
package testenv

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DefaultRoot is where the scripts keep their state unless
// FREEZER_TESTENV_ROOT says otherwise. It lies outside any checkout so that
// every worktree shares one set of services.
const DefaultRoot = "/var/tmp/freezer-testenv"

// Env is the parsed environment file.
type Env struct {
	Root string
	vars map[string]string
}

// Root returns the state directory in use.
func Root() string {
	if r := os.Getenv("FREEZER_TESTENV_ROOT"); r != "" {
		return r
	}
	return DefaultRoot
}

// Read parses the environment file without a testing.T, for tools.
func Read() (*Env, error) {
	root := Root()
	p := filepath.Join(root, "testenv.env")
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading test environment (run `make testenv-up`): %w", err)
	}
	defer f.Close()
	e := &Env{Root: root, vars: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		e.vars[k] = strings.Trim(v, `"'`)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return e, nil
}

// Load reads the environment file or fails the test.
func Load(t testing.TB) *Env {
	t.Helper()
	e, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Get returns a key's value or fails the test when it is missing.
func (e *Env) Get(t testing.TB, key string) string {
	t.Helper()
	v, ok := e.vars[key]
	if !ok || v == "" {
		t.Fatalf("test environment has no %s (in %s/testenv.env)", key, e.Root)
	}
	return v
}

// Lookup returns a key's value and whether it is set.
func (e *Env) Lookup(key string) (string, bool) {
	v, ok := e.vars[key]
	return v, ok
}

// Vars returns a copy of all variables.
func (e *Env) Vars() map[string]string {
	m := make(map[string]string, len(e.vars))
	for k, v := range e.vars {
		m[k] = v
	}
	return m
}

// OSEnv returns the OS_* variables of one identity ("ADMIN", "DEMO",
// "OTHER"), as `KEY=VALUE` strings ready for exec.Cmd.Env: the file stores
// them as <USER>_OS_*.
func (e *Env) OSEnv(user string) []string {
	prefix := strings.ToUpper(user) + "_"
	var out []string
	for k, v := range e.vars {
		if strings.HasPrefix(k, prefix+"OS_") {
			out = append(out, strings.TrimPrefix(k, prefix)+"="+v)
		}
	}
	if v, ok := e.vars["OS_AUTH_URL"]; ok {
		out = append(out, "OS_AUTH_URL="+v)
	}
	return out
}
