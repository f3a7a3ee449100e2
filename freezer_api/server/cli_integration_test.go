//go:build integration

package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// TestFreezerClientCLI drives our API with the upstream python-freezerclient
// CLI (Debian python3-freezerclient, `freezer ...`) behind the real
// Keystone: every command for clients, jobs, actions, sessions and backups,
// with the output checked.
func TestFreezerClientCLI(t *testing.T) {
	env := testenv.Load(t)
	k := serviceKeystone(t, env)
	e := newEnv(t, func(c *server.Config) { c.Auth = k })
	freezerClientChecks(t, env, e.url)
}

// freezerClientChecks runs the python-freezerclient transcript against the
// freezer-api at url (one that validates tokens with the test Keystone and
// has a database of its own: the checks expect only their own objects).
func freezerClientChecks(t *testing.T, env *testenv.Env, url string) {
	t.Helper()
	cli := env.Get(t, "PYTHON_FREEZER_CLI")
	dir := t.TempDir()
	pid := env.Get(t, "DEMO_OS_PROJECT_ID")
	// The Debian Python stack must not see a pyenv or virtualenv.
	base := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "PYTHONWARNINGS=ignore", "OS_IDENTITY_API_VERSION=3", "OS_BACKUP_URL=" + url}
	demo := append(append([]string{}, base...), env.OSEnv("DEMO")...)
	other := append(append([]string{}, base...), env.OSEnv("OTHER")...)
	run := func(envv []string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Env, cmd.Dir = envv, dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("freezer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	must := func(out, pattern string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("output does not match %q:\n%s", pattern, out)
		}
		if len(m) > 1 {
			return m[1]
		}
		return m[0]
	}
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	client := pid + "_clihost"

	// Clients.
	must(run(demo, "client-register", "--file", file("client.json", `{"client_id":"`+client+`","hostname":"clihost","description":"cli test"}`)), `Client `+client+` registered`)
	must(run(demo, "client-list"), client+` \| [0-9a-f]{32} \| clihost +\| cli test`)
	must(run(demo, "client-show", client), `Client UUID \| [0-9a-f]{32}`)
	if out := run(other, "client-list"); strings.Contains(out, client) {
		t.Fatalf("other project sees demo's client:\n%s", out)
	}

	// Jobs.
	jobFile := file("job.json", `{"description":"cli job","job_schedule":{"schedule_interval":"1 days"},"job_actions":[{"freezer_action":{"action":"backup","mode":"fs","path_to_backup":"/etc","backup_name":"etc","container":"c1","storage":"swift"},"max_retries":2}]}`)
	job := must(run(demo, "job-create", "--file", jobFile, "--client", client), `Job ([0-9a-f]{32}) created`)
	must(run(demo, "job-list"), job+` \| cli job +\| +1 \|`)
	must(run(demo, "job-list", "--client", client), job)
	must(run(demo, "job-list", "--search", "cli job"), job)
	if out := run(demo, "job-list", "--search", "no-such-text"); strings.Contains(out, job) {
		t.Fatalf("free-text search returned everything:\n%s", out)
	}
	out := run(demo, "job-show", job)
	must(out, `Client ID +\| `+client)
	must(out, `Interval +\| 1 days`)
	must(run(demo, "job-start", job), `Start request sent for job `+job)
	must(run(demo, "job-get", job), `'event': 'start'`)
	must(run(demo, "job-stop", job), `Stop request sent for job `+job)
	must(run(demo, "job-abort", job), `Abort request sent for job `+job)
	must(run(demo, "job-get", job), `'event': 'abort'`)
	must(run(demo, "job-update", job, file("jobupd.json", `{"description":"updated job"}`)), `Job `+job+` updated`)
	out = run(demo, "job-get", job)
	must(out, `'description': 'updated job'`)
	must(out, `'schedule_interval': '1 days'`) // PATCH keeps the schedule
	if out := run(other, "job-list"); strings.Contains(out, job) {
		t.Fatalf("other project sees demo's job:\n%s", out)
	}

	// Actions.
	action := must(run(demo, "action-create", "--file", file("action.json", `{"freezer_action":{"action":"restore","backup_name":"etc","restore_abs_path":"/tmp/r","container":"c1","storage":"swift"},"max_retries":4}`)), `Action ([0-9a-f]{32}) created`)
	must(run(demo, "action-list"), action+` \| etc +\| restore`)
	out = run(demo, "action-show", action)
	must(out, `Max_retries +\| 4`)
	must(out, `Container +\| c1`)
	must(run(demo, "action-update", action, file("actupd.json", `{"max_retries":7}`)), `Action `+action+` updated`)
	out = run(demo, "action-show", action)
	must(out, `Max_retries +\| 7`)
	must(out, `Max_retries_interval +\| 6`)

	// Sessions.
	sess := must(run(demo, "session-create", "--file", file("session.json", `{"description":"cli session","schedule":{"schedule_interval":"2 hours"}}`)), `Session ([0-9a-f]{32}) created`)
	must(run(demo, "session-add-job", "--session-id", sess, "--job-id", job), `Job `+job+` added correctly to session `+sess)
	// Result None: null until the session runs, as upstream answers it.
	must(run(demo, "session-list"), sess+` \| cli session +\| active +\| None +\| +1 \|`)
	must(run(demo, "session-show", sess), `'client_id': '`+client+`'`)
	must(run(demo, "session-start", "--session-id", sess, "--job-id", job, "--job-tag", "0"), `Session `+sess+` start requested`)
	must(run(demo, "session-show", sess), `Session tag +\| 1`)
	must(run(demo, "session-update", sess, file("sessupd.json", `{"description":"renamed session"}`)), `Session `+sess+` updated`)
	must(run(demo, "session-show", sess), `Description +\| renamed session`)
	must(run(demo, "session-remove-job", "--session-id", sess, "--job-id", job), `Job `+job+` removed correctly from session `+sess)
	must(run(demo, "session-list"), sess+` \| renamed session .*\| +0 \|`)
	must(run(demo, "session-delete", sess), `Session `+sess+` deleted`)
	if out := run(demo, "session-list"); strings.Contains(out, sess) {
		t.Fatalf("deleted session listed:\n%s", out)
	}

	// Backups.
	backup := must(run(demo, "backup-create", "--file", file("backup.json", `{"container":"c1","hostname":"clihost","backup_name":"etc","time_stamp":1790000000,"level":0,"curr_backup_level":0,"path_to_backup":"/etc","mode":"fs","storage":"swift","backup_media":"fs"}`)), `Backup ([0-9a-f]{32}) created`)
	must(run(demo, "backup-list"), backup+` \| +\| clihost +\| /etc`)
	must(run(demo, "backup-list", "--search", "clihost"), backup)
	must(run(demo, "backup-show", backup), `'backup_name': 'etc'`)
	if out := run(other, "backup-list"); strings.Contains(out, backup) {
		t.Fatalf("other project sees demo's backup:\n%s", out)
	}
	must(run(demo, "backup-delete", backup), `Backup `+backup+` deleted`)
	if out := run(demo, "backup-list"); strings.Contains(out, backup) {
		t.Fatalf("deleted backup listed:\n%s", out)
	}

	// Deletes.
	must(run(demo, "job-delete", job), `Job `+job+` deleted`)
	if out := run(demo, "job-list"); strings.Contains(out, job) {
		t.Fatalf("deleted job listed:\n%s", out)
	}
	must(run(demo, "action-delete", action), `Action `+action+` deleted`)
	must(run(demo, "client-delete", client), `Client `+client+` deleted`)
	if out := run(demo, "client-list"); strings.Contains(out, client) {
		t.Fatalf("deleted client listed:\n%s", out)
	}
}
