package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDBCommands(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "freezer-api.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[database]\nconnection = sqlite:///%s/f.db\n", dir)), 0o600)
	ctx := context.Background()
	do := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if c := run(ctx, args, &out, &errb); c != want {
			t.Fatalf("%v: exit %d, want %d: %s%s", args, c, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	if out := do(0, "--config-file", conf, "db", "version"); !strings.Contains(out, "current: 0") {
		t.Fatalf("fresh version: %s", out)
	}
	if out := do(0, "--config-file", conf, "db", "sync"); !strings.Contains(out, "applied migrations [1 2 3]") {
		t.Fatalf("sync: %s", out)
	}
	// oslo also takes the flags after the command.
	if out := do(0, "db", "sync", "--config-file", conf); !strings.Contains(out, "up to date") {
		t.Fatalf("second sync: %s", out)
	}
	if out := do(0, "--config-file="+conf, "db", "version"); !strings.Contains(out, "current: 3\nlatest: 3") {
		t.Fatalf("version: %s", out)
	}
	out := do(0, "--config-file", conf, "db", "show")
	for _, tbl := range []string{`"jobs"`, `"actions"`, `"sessions"`, `"clients"`, `"backups"`, `"job_actions"`, `"job_generations"`, `"freezer_schema_version"`} {
		if !strings.Contains(out, tbl) {
			t.Fatalf("show lacks %s: %s", tbl, out)
		}
	}
	do(0, "--config-file", conf, "db", "remove")
	if out := do(0, "--config-file", conf, "db", "show"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("after remove: %s", out)
	}
	do(2, "--config-file", conf, "db", "update-settings")
	do(2, "--config-file", conf, "db", "frobnicate")
	do(2, "--config-file", conf)
	do(2, "--bogus", "db", "sync")
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("[database]\nconnection = mysql+pymysql://u:hunter2@127.0.0.1:1/freezer\n"), 0o600)
	if out := do(1, "--config-file", bad, "db", "sync"); strings.Contains(out, "hunter2") {
		t.Fatalf("password in output: %s", out)
	}
	_ = io.Discard
}

// --help comes from the shared option schema: the same layout and options
// as freezer-api's, with the db commands.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if c := run(context.Background(), []string{"--help"}, &out, io.Discard); c != 0 {
		t.Fatalf("--help: exit %d", c)
	}
	for _, want := range []string{"usage: freezer-manage [options] db COMMAND", "import-upstream URL", "Configuration files:\n  --config-file FILE", "[database] options:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "--print-policy") {
		t.Error("freezer-manage --help lists --print-policy")
	}
	var errb bytes.Buffer
	if c := run(context.Background(), []string{"--frobnicate", "db", "sync"}, io.Discard, &errb); c != 2 || !strings.Contains(errb.String(), "unrecognized arguments: --frobnicate") {
		t.Errorf("unknown flag: exit %d, stderr %q", c, errb.String())
	}
}
