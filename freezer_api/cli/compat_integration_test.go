//go:build integration

package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/testenv"
)

// The compatibility test: one transcript of every command in every output
// format, run with Debian's python-freezerclient (/usr/bin/freezer) and
// with ours, each against its own freezer-api (ours, behind the real
// Keystone, fresh database). Outputs, messages and exit statuses must be
// equal once ids, timestamps and request ids are normalised.

// binaries returns the directory holding freezer-api and freezer: the
// build of `make integration`, or a fresh build.
func binaries(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("FREEZER_BUILD_DIR"); d != "" {
		return d
	}
	dir := t.TempDir()
	for _, c := range []string{"freezer_api/cmd/freezer-api", "freezer_api/cmd/freezer"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, filepath.Base(c)), "./"+c)
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", c, err, out)
		}
	}
	return dir
}

// startAPI runs our freezer-api on a free port with a new SQLite
// database, authenticating against the test Keystone.
func startAPI(t *testing.T, env *testenv.Env, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := fmt.Sprintf(`[DEFAULT]
bind_host = 127.0.0.1
bind_port = %d
[database]
connection = sqlite:///%s
[keystone_authtoken]
auth_url = %s
www_authenticate_uri = %s
auth_type = password
username = %s
password = %s
project_name = %s
user_domain_name = Default
project_domain_name = Default
`, port, filepath.Join(dir, "api.db"), env.Get(t, "OS_AUTH_URL"), env.Get(t, "OS_AUTH_URL"),
		env.Get(t, "FREEZER_SVC_USERNAME"), env.Get(t, "FREEZER_SVC_PASSWORD"), env.Get(t, "FREEZER_SVC_PROJECT_NAME"))
	cf := filepath.Join(dir, "api.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(filepath.Join(bin, "freezer-api"), "--config-file", cf)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	u := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if r, err := http.Get(u + "/"); err == nil {
			r.Body.Close()
			return u
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("freezer-api did not start:\n%s", log.String())
	return ""
}

// step is one command of the transcript. args may name values captured
// earlier as {name}; capture takes a value from the step's stderr (the
// Python client's "Job <id> created" lines). kind, when set, replaces
// the exact comparison: both outputs must match it, with the same exit
// status (for messages that are Python's own, e.g. urllib3's).
type step struct {
	args    []string
	env     []string // extra variables
	capture map[string]string
	kind    string
}

type result struct {
	code           int
	stdout, stderr string
}

type runner struct {
	bin  string
	env  []string
	dir  string
	vars map[string]string
}

func (r *runner) run(s step) (result, error) {
	args := make([]string, len(s.args))
	for i, a := range s.args {
		for k, v := range r.vars {
			a = strings.ReplaceAll(a, "{"+k+"}", v)
		}
		args[i] = a
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = append(append([]string{}, r.env...), s.env...)
	cmd.Dir = r.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return result{}, fmt.Errorf("%s %v: %w", r.bin, args, err)
	}
	for name, pat := range s.capture {
		m := regexp.MustCompile(pat).FindStringSubmatch(errb.String())
		if m == nil {
			return result{}, fmt.Errorf("%s %v: no %s in %q (stdout %q)", r.bin, args, name, errb.String(), out.String())
		}
		r.vars[name] = m[1]
	}
	return result{code, out.String(), errb.String()}, nil
}

var (
	// Ids, also the pieces of one that a narrow table wraps.
	hexID     = regexp.MustCompile(`\b[0-9a-f]{8,32}\b`)
	requestID = regexp.MustCompile(`req-[0-9a-f-]{36}`)
	epoch     = regexp.MustCompile(`\b1[78][0-9]{8}\b`)
)

// normaliser numbers ids by first appearance, so that equal ids stay
// equal and different ones different.
type normaliser struct {
	ids  map[string]string
	keep map[string]bool // ids both runs share (the project, the user)
}

func (n *normaliser) apply(s string) string {
	s = requestID.ReplaceAllString(s, "req-REQUEST-ID")
	s = epoch.ReplaceAllString(s, "TIMESTAMP0")
	return hexID.ReplaceAllStringFunc(s, func(id string) string {
		// Timestamps are gone by now: what is left of 8 or more hex
		// digits is an id or a wrapped piece of one, even all digits.
		if n.keep[id] {
			return id
		}
		if _, ok := n.ids[id]; !ok {
			// Same length, so that table widths stay as they were.
			n.ids[id] = fmt.Sprintf("ID%0*d", len(id)-2, len(n.ids)+1)
		}
		return n.ids[id]
	})
}

func TestCompatibilityWithPythonClient(t *testing.T) {
	env := testenv.Load(t)
	py := env.Get(t, "PYTHON_FREEZER_CLI")
	bin := binaries(t)
	pid := env.Get(t, "DEMO_OS_PROJECT_ID")
	dir := t.TempDir()
	file := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	client := pid + "_compathost"
	file("client.json", `{"client_id":"`+client+`","hostname":"compathost","description":"compat test"}`)
	file("job.json", `{"description":"compat job","job_schedule":{"schedule_interval":"1 days","schedule_start_date":"2030-01-01T00:00:00"},"job_actions":[{"freezer_action":{"action":"backup","mode":"fs","path_to_backup":"/etc","backup_name":"etc","container":"c1","storage":"swift","max_level":3,"snapshot":true,"remove_older_than":5.5},"max_retries":2,"max_retries_interval":10},{"freezer_action":{"action":"info","description":"a long description that pprint has to split over several lines because it is wider than eighty columns"}}]}`)
	file("job2.json", `{"description":"second job","job_actions":[]}`)
	file("jobupd.json", `{"description":"updated job"}`)
	file("action.json", `{"freezer_action":{"action":"restore","backup_name":"etc","restore_abs_path":"/tmp/r","container":"c1","storage":"swift"},"max_retries":4}`)
	file("actupd.json", `{"max_retries":7}`)
	file("session.json", `{"description":"compat session","schedule":{"schedule_interval":"2 hours"}}`)
	file("sessupd.json", `{"description":"renamed session"}`)
	file("backup.json", `{"container":"c1","hostname":"compathost","backup_name":"etc","time_stamp":1790000000,"level":0,"curr_backup_level":0,"path_to_backup":"/etc","mode":"fs","storage":"swift","backup_media":"fs"}`)
	file("bad.json", `{"description": "x",`)
	file("trailing.json", `{"a": 1} [2]`)
	file("list.json", `[1, 2]`)

	created := func(what string) map[string]string {
		return map[string]string{strings.ToLower(what): what + ` ([0-9a-f]{32}) created`}
	}
	var steps []step
	add := func(args ...string) { steps = append(steps, step{args: args}) }
	formats := func(list bool, args ...string) {
		fs := []string{"table", "json", "yaml", "value"}
		if list {
			fs = append(fs, "csv")
		} else {
			fs = append(fs, "shell")
		}
		for _, f := range fs {
			add(append(append([]string{}, args...), "-f", f)...)
		}
	}
	// Clients.
	add("client-register", "--file", "client.json")
	add("client-list")
	add("client-list", "-f", "csv")
	add("client-show", client)
	add("client-show", client, "-f", "shell")
	// Jobs: every output format of a list and of a show.
	steps = append(steps, step{args: []string{"job-create", "--file", "job.json", "--client", client}, capture: created("Job")})
	steps = append(steps, step{args: []string{"job-create", "--file", "job2.json", "-C", client}, capture: map[string]string{"job2": `Job ([0-9a-f]{32}) created`}})
	formats(true, "job-list")
	formats(false, "job-show", "{job}")
	add("job-list", "--client", client, "--sort-column", "Description")
	add("job-list", "--search", "compat job", "-c", "Job ID", "-c", "Description")
	add("job-list", "--limit", "1", "--offset", "1", "-f", "value", "-c", "# Actions")
	add("job-list", "--max-width", "60")
	add("job-list", "-f", "json", "--noindent", "--sort-column", "Description", "--sort-descending")
	add("job-list", "-f", "csv", "--quote", "minimal")
	add("job-show", "{job}", "--max-width", "70")
	add("job-get", "{job}")
	add("job-get", "{job}", "--no-format")
	add("job-start", "{job}")
	add("job-stop", "{job}")
	add("job-abort", "{job}")
	add("job-update", "{job}", "jobupd.json")
	add("job-show", "{job}", "-c", "Description", "-c", "Event", "-f", "value")
	// Actions.
	steps = append(steps, step{args: []string{"action-create", "--file", "action.json"}, capture: created("Action")})
	add("action-list")
	add("action-list", "-f", "yaml")
	add("action-show", "{action}")
	add("action-update", "{action}", "actupd.json")
	add("action-show", "{action}", "-f", "json", "--noindent")
	// Sessions.
	steps = append(steps, step{args: []string{"session-create", "--file", "session.json"}, capture: created("Session")})
	add("session-add-job", "--session-id", "{session}", "--job-id", "{job}")
	add("session-list")
	add("session-show", "{session}")
	add("session-show", "{session}", "-f", "yaml")
	add("session-start", "--session-id", "{session}", "--job-id", "{job}", "--job-tag", "0")
	add("session-update", "{session}", "sessupd.json")
	add("session-remove-job", "--session-id", "{session}", "--job-id", "{job}")
	add("session-list", "-f", "value")
	add("session-delete", "{session}")
	// Backups: the Python client cannot write "Created at" as JSON; ours
	// fails the same way, after the same partial document.
	steps = append(steps, step{args: []string{"backup-create", "--file", "backup.json"}, capture: created("Backup")})
	add("backup-list")
	add("backup-list", "-f", "json")
	add("backup-show", "{backup}")
	add("backup-show", "{backup}", "-f", "value")
	add("backup-delete", "{backup}")
	// Unknown ids.
	add("job-show", "nosuchid")
	add("job-start", "nosuchid")
	add("session-delete", "nosuchid")
	add("action-update", "nosuchid", "actupd.json")
	add("session-add-job", "--session-id", "nosuchid", "--job-id", "{job}")
	// The Python client fails here on its own bug ("'ApiClientException'
	// object has no attribute 'message'"); ours names the API's error.
	steps = append(steps, step{args: []string{"session-remove-job", "--session-id", "nosuchid", "--job-id", "{job}"}, kind: `(?s).`})
	// Bad files.
	add("job-create", "--file", "bad.json", "--client", client)
	add("action-create", "--file", "trailing.json")
	add("session-update", "{job}", "missing.json")
	add("job-create", "--file", "list.json", "--client", client)
	// Bad command lines.
	add("job-show")
	add("job-create", "--file", "job.json")
	add("job-list", "-f", "xml")
	add("job-list", "-c", "Nope")
	add("job-list", "--limit", "ten")
	add("job-lst")
	add("sesion-list")
	// Bad credentials and endpoints.
	add("job-list", "--os-password", "wrong")
	add("--os-auth-url", "", "job-list")
	steps = append(steps, step{args: []string{"job-list"}, env: []string{"OS_BACKUP_URL=http://127.0.0.1:1"}, kind: `(?s)127\.0\.0\.1.*port=1|127\.0\.0\.1:1\b.*[Cc]onnection refused`})
	// Without OS_BACKUP_URL both find the catalog's "backup" endpoint.
	steps = append(steps, step{args: []string{"job-list", "--os-backup-url", ""}, kind: `(?s)9090|Job ID`})
	// Deletes.
	add("job-delete", "{job}")
	add("job-delete", "{job2}")
	add("action-delete", "{action}")
	add("client-delete", client)
	add("job-list")

	// Python's stack must not see a pyenv or virtualenv.
	base := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "PYTHONWARNINGS=ignore", "OS_IDENTITY_API_VERSION=3", "TZ=UTC", "LC_ALL=C.UTF-8"}
	base = append(base, env.OSEnv("DEMO")...)
	// The two transcripts run side by side, each on its own API.
	runs := map[string][]result{}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, who := range []string{"python", "go"} {
		b := py
		if who == "go" {
			b = filepath.Join(bin, "freezer")
		}
		url := startAPI(t, env, bin)
		r := &runner{bin: b, env: append(append([]string{}, base...), "OS_BACKUP_URL="+url), dir: dir, vars: map[string]string{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []result
			for _, s := range steps {
				res, err := r.run(s)
				if err != nil {
					mu.Lock()
					errs[who] = err
					mu.Unlock()
					return
				}
				out = append(out, res)
			}
			mu.Lock()
			runs[who] = out
			mu.Unlock()
		}()
	}
	wg.Wait()
	for who, err := range errs {
		t.Fatalf("%s transcript: %v", who, err)
	}
	keep := map[string]bool{pid: true, env.Get(t, "DEMO_OS_USER_ID"): true}
	np, ng := &normaliser{ids: map[string]string{}, keep: keep}, &normaliser{ids: map[string]string{}, keep: keep}
	failed := 0
	for i, s := range steps {
		p, g := runs["python"][i], runs["go"][i]
		if s.kind != "" {
			re := regexp.MustCompile(s.kind)
			if p.code != g.code || !re.MatchString(p.stdout+p.stderr) || !re.MatchString(g.stdout+g.stderr) {
				failed++
				t.Errorf("freezer %s: kind %q\npython (%d): %s%s\ngo (%d): %s%s", strings.Join(s.args, " "), s.kind, p.code, p.stdout, p.stderr, g.code, g.stdout, g.stderr)
			}
			np.apply(p.stdout + p.stderr)
			ng.apply(g.stdout + g.stderr)
			continue
		}
		ps, gs := np.apply(p.stdout), ng.apply(g.stdout)
		pe, ge := np.apply(p.stderr), ng.apply(g.stderr)
		if p.code != g.code || ps != gs || pe != ge {
			failed++
			t.Errorf("freezer %s differs:\npython (exit %d):\n%s--- stderr:\n%s\ngo (exit %d):\n%s--- stderr:\n%s",
				strings.Join(s.args, " "), p.code, ps, pe, g.code, gs, ge)
		}
		if strings.Contains(g.stderr, "goroutine ") || strings.Contains(g.stderr, "panic:") {
			t.Errorf("freezer %s: Go stack trace:\n%s", strings.Join(s.args, " "), g.stderr)
		}
	}
	t.Logf("%d steps, %d differ", len(steps), failed)
}
