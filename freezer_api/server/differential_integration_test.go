//go:build integration

package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// differencesFile is the table of docs/api-differences.rst (the document
// includes it), so the list of known differences and the test that checks
// it cannot drift apart.
const differencesFile = "testdata/api-differences.csv"

// diffStep is one request of the differential sequence. Path and body may
// name variables as {name}: {p} the project, {run} a suffix unique to the
// run, and every id captured by an earlier step (each side has its own
// values).
type diffStep struct {
	name, method, path, body string
	noToken                  bool
	// capture: variable name → key of the answer's JSON object.
	capture map[string]string
}

// diffSequence touches every route, success and error cases, in an order
// that leaves nothing behind on either side.
var diffSequence = []diffStep{
	{name: "versions", method: "GET", path: "/", noToken: true},
	{name: "healthcheck", method: "GET", path: "/healthcheck", noToken: true},
	{name: "homedoc", method: "GET", path: "/v2"},
	{name: "no-token-unrouted", method: "GET", path: "/v2/jobs", noToken: true},
	{name: "no-token-jobs", method: "GET", path: "/v2/{p}/jobs", noToken: true},
	{name: "no-token-homedoc", method: "GET", path: "/v2", noToken: true},
	{name: "unknown-path", method: "GET", path: "/v2/{p}/nothing"},

	{name: "client-create", method: "POST", path: "/v2/{p}/clients", body: `{"client_id":"{p}_fid{run}","hostname":"h{run}","description":"d"}`, capture: map[string]string{"client": "client_id"}},
	{name: "client-get", method: "GET", path: "/v2/{p}/clients/{client}"},
	{name: "client-list", method: "GET", path: "/v2/{p}/clients?limit=100", body: `{"match":[{"client_id":"{client}"}]}`},
	{name: "client-create-no-id", method: "POST", path: "/v2/{p}/clients", body: `{"hostname":"h"}`},
	{name: "client-get-missing", method: "GET", path: "/v2/{p}/clients/nope{run}"},

	{name: "action-create", method: "POST", path: "/v2/{p}/actions", body: `{"freezer_action":{"action":"backup","mode":"fs","path_to_backup":"/etc","backup_name":"b{run}","container":"c","storage":"swift"}}`, capture: map[string]string{"action": "action_id"}},
	{name: "action-get", method: "GET", path: "/v2/{p}/actions/{action}"},
	{name: "action-list", method: "GET", path: "/v2/{p}/actions?limit=100", body: `{"match":[{"backup_name":"b{run}"}]}`},
	{name: "action-patch-partial", method: "PATCH", path: "/v2/{p}/actions/{action}", body: `{"freezer_action":{"container":"c2"},"max_retries":2}`},
	{name: "action-get-patched", method: "GET", path: "/v2/{p}/actions/{action}"},
	{name: "action-replace", method: "POST", path: "/v2/{p}/actions/{action}", body: `{"freezer_action":{"action":"info","backup_name":"b{run}"}}`},
	{name: "action-get-replaced", method: "GET", path: "/v2/{p}/actions/{action}"},
	{name: "action-create-no-freezer-action", method: "POST", path: "/v2/{p}/actions", body: `{"max_retries":1}`},
	{name: "action-get-missing", method: "GET", path: "/v2/{p}/actions/nope{run}"},
	{name: "action-delete", method: "DELETE", path: "/v2/{p}/actions/{action}"},
	{name: "action-get-deleted", method: "GET", path: "/v2/{p}/actions/{action}"},

	{name: "job-create", method: "POST", path: "/v2/{p}/jobs", body: `{"client_id":"{client}","description":"j{run}","job_actions":[{"freezer_action":{"action":"exec","command":"exit 1"}}]}`, capture: map[string]string{"job": "job_id"}},
	{name: "job-get", method: "GET", path: "/v2/{p}/jobs/{job}"},
	{name: "job-list", method: "GET", path: "/v2/{p}/jobs?limit=100", body: `{"match":[{"client_id":"{client}"}]}`},
	{name: "job-patch", method: "PATCH", path: "/v2/{p}/jobs/{job}", body: `{"description":"j2{run}"}`},
	{name: "job-get-patched", method: "GET", path: "/v2/{p}/jobs/{job}"},
	{name: "job-event-start", method: "POST", path: "/v2/{p}/jobs/{job}/event", body: `{"start":""}`},
	{name: "job-event-bogus", method: "POST", path: "/v2/{p}/jobs/{job}/event", body: `{"bogus":""}`},
	{name: "job-replace", method: "POST", path: "/v2/{p}/jobs/{job}", body: `{"client_id":"{client}","description":"j3{run}","job_schedule":{"schedule_interval":"1 days"},"job_actions":[{"freezer_action":{"action":"exec","command":"true"},"max_retries":1,"max_retries_interval":1}]}`},
	{name: "job-get-replaced", method: "GET", path: "/v2/{p}/jobs/{job}"},
	{name: "job-create-unknown-client", method: "POST", path: "/v2/{p}/jobs", body: `{"client_id":"{p}_nope{run}","job_actions":[]}`, capture: map[string]string{"orphan": "job_id"}},
	{name: "job-create-malformed", method: "POST", path: "/v2/{p}/jobs", body: `{"client_id":`},
	{name: "job-get-missing", method: "GET", path: "/v2/{p}/jobs/nope{run}"},

	{name: "session-create", method: "POST", path: "/v2/{p}/sessions", body: `{"description":"s{run}","schedule":{"schedule_interval":"1 days"}}`, capture: map[string]string{"session": "session_id"}},
	{name: "session-get", method: "GET", path: "/v2/{p}/sessions/{session}"},
	{name: "session-list", method: "GET", path: "/v2/{p}/sessions?limit=100", body: `{"match":[{"description":"s{run}"}]}`},
	{name: "session-patch", method: "PATCH", path: "/v2/{p}/sessions/{session}", body: `{"hold_off":5}`},
	{name: "session-add-job", method: "PUT", path: "/v2/{p}/sessions/{session}/jobs/{job}"},
	{name: "session-get-with-job", method: "GET", path: "/v2/{p}/sessions/{session}"},
	{name: "session-start", method: "POST", path: "/v2/{p}/sessions/{session}/action", body: `{"start":{"job_id":"{job}","current_tag":0}}`},
	{name: "session-remove-job", method: "DELETE", path: "/v2/{p}/sessions/{session}/jobs/{job}"},
	{name: "session-create-no-schedule", method: "POST", path: "/v2/{p}/sessions", body: `{"description":"x"}`},
	{name: "session-get-missing", method: "GET", path: "/v2/{p}/sessions/nope{run}"},
	{name: "session-delete", method: "DELETE", path: "/v2/{p}/sessions/{session}"},

	{name: "backup-create", method: "POST", path: "/v2/{p}/backups", body: `{"container":"c","hostname":"h{run}","backup_name":"b{run}","time_stamp":1700000000,"level":0,"job_id":"{job}"}`, capture: map[string]string{"backup": "backup_id"}},
	{name: "backup-get", method: "GET", path: "/v2/{p}/backups/{backup}"},
	{name: "backup-list", method: "GET", path: "/v2/{p}/backups?limit=100", body: `{"match":[{"hostname":"h{run}"}]}`},
	{name: "backup-create-invalid", method: "POST", path: "/v2/{p}/backups", body: `{"container":"c"}`},
	{name: "backup-get-missing", method: "GET", path: "/v2/{p}/backups/nope{run}"},
	{name: "backup-delete", method: "DELETE", path: "/v2/{p}/backups/{backup}"},

	{name: "job-delete", method: "DELETE", path: "/v2/{p}/jobs/{job}"},
	{name: "job-get-deleted", method: "GET", path: "/v2/{p}/jobs/{job}"},
	{name: "job-delete-missing", method: "DELETE", path: "/v2/{p}/jobs/nope{run}"},
	{name: "client-delete", method: "DELETE", path: "/v2/{p}/clients/{client}"},
	{name: "client-get-deleted", method: "GET", path: "/v2/{p}/clients/{client}"},
}

// diffSide is one API under test with the variables of its answers.
type diffSide struct {
	name, base string
	vars       map[string]string
}

func (d *diffSide) expand(s string) string {
	for k, v := range d.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// answer is what is compared: the status and the normalised body.
type answer struct {
	Status int    `json:"status"`
	Body   any    `json:"body"`
	Auth   string `json:"www_authenticate,omitempty"`
}

func (d *diffSide) send(t *testing.T, st diffStep, token string) answer {
	t.Helper()
	var body io.Reader
	if st.body != "" {
		body = strings.NewReader(d.expand(st.body))
	}
	req, err := http.NewRequest(st.method, d.base+d.expand(st.path), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if !st.noToken {
		req.Header.Set("X-Auth-Token", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %s: %v", d.name, st.name, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{Status: res.StatusCode}
	if res.StatusCode == http.StatusUnauthorized {
		a.Auth = res.Header.Get("WWW-Authenticate")
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if len(bytes.TrimSpace(raw)) == 0 {
		doc = nil
	} else if err := dec.Decode(&doc); err != nil {
		doc = "text: " + strings.TrimSpace(string(raw))
	}
	if m, ok := doc.(map[string]any); ok && res.StatusCode < 300 {
		for v, key := range st.capture {
			if s, ok := m[key].(string); ok {
				d.vars[v] = s
			}
		}
	}
	a.Body = d.normalise(doc, "")
	return a
}

// timeKeys hold epoch seconds that differ between runs.
var timeKeys = map[string]bool{"time_created": true, "time_started": true, "time_ended": true, "time_start": true, "time_end": true}

// normalise replaces the values that differ by nature (ids chosen by each
// server, times, the base URL) by their names, and keeps of a list only
// the documents of this run (the upstream database is shared).
func (d *diffSide) normalise(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "uuid" {
				out[k] = "<uuid>"
				continue
			}
			if id, ok := e.(string); ok && k == "action_id" && !d.mentionsVar(id) {
				out[k] = "<generated>" // an action created with its job
				continue
			}
			out[d.normaliseString(k)] = d.normalise(e, k)
		}
		return out
	case []any:
		out := []any{}
		for _, e := range x {
			if key != "" && isList(key) {
				b, _ := json.Marshal(e)
				if !strings.Contains(string(b), d.vars["run"]) && !d.mentionsVar(string(b)) {
					continue
				}
			}
			out = append(out, d.normalise(e, ""))
		}
		return out
	case json.Number:
		if n, err := x.Int64(); err == nil && timeKeys[key] && n > 1e9 {
			return "<time>"
		}
		return x
	case string:
		if timeKeys[key] {
			if n, err := strconv.ParseInt(x, 10, 64); err == nil && n > 1e9 {
				return "<time>"
			}
		}
		return d.normaliseString(x)
	}
	return v
}

func isList(key string) bool {
	switch key {
	case "jobs", "actions", "sessions", "clients", "backups":
		return true
	}
	return false
}

func (d *diffSide) mentionsVar(s string) bool {
	for k, v := range d.vars {
		if k != "p" && k != "u" && k != "base" && v != "" && strings.Contains(s, v) {
			return true
		}
	}
	return false
}

func (d *diffSide) normaliseString(s string) string {
	// Longest values first, so that an id containing another is replaced whole.
	names := make([]string, 0, len(d.vars))
	for k := range d.vars {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return len(d.vars[names[i]]) > len(d.vars[names[j]]) })
	for _, k := range names {
		if v := d.vars[k]; v != "" {
			s = strings.ReplaceAll(s, v, "{"+k+"}")
		}
	}
	return s
}

// knownDifference is a row of the table: where a step's answers differ
// (diffPaths, space-separated) and why.
type knownDifference struct{ paths, reason string }

// knownDifferences reads the table.
func knownDifferences(t *testing.T) map[string]knownDifference {
	t.Helper()
	f, err := os.Open(differencesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", differencesFile, err)
	}
	out := map[string]knownDifference{}
	for i, row := range rows {
		if i == 0 {
			continue // header
		}
		if len(row) != 3 || strings.TrimSpace(row[1]) == "" || strings.TrimSpace(row[2]) == "" {
			t.Fatalf("%s line %d: want step, where it differs, reason: %q", differencesFile, i+1, row)
		}
		out[strings.TrimSpace(row[0])] = knownDifference{paths: strings.Join(strings.Fields(row[1]), " "), reason: row[2]}
	}
	return out
}

// diffPaths lists, sorted, where two answers differ: "status", "auth" (the
// WWW-Authenticate header) or the JSON path of a key present on one side
// only or of a differing value. Array elements are compared by position.
func diffPaths(a, b answer) []string {
	var out []string
	if a.Status != b.Status {
		out = append(out, "status")
	}
	if a.Auth != b.Auth {
		out = append(out, "auth")
	}
	var walk func(x, y any, path string)
	walk = func(x, y any, path string) {
		mx, okx := x.(map[string]any)
		my, oky := y.(map[string]any)
		if okx && oky {
			keys := map[string]bool{}
			for k := range mx {
				keys[k] = true
			}
			for k := range my {
				keys[k] = true
			}
			for k := range keys {
				vx, inx := mx[k]
				vy, iny := my[k]
				if !inx || !iny {
					out = append(out, path+"."+k)
					continue
				}
				walk(vx, vy, path+"."+k)
			}
			return
		}
		ax, okx := x.([]any)
		ay, oky := y.([]any)
		if okx && oky && len(ax) == len(ay) {
			for i := range ax {
				walk(ax[i], ay[i], path+"[]")
			}
			return
		}
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		if string(jx) != string(jy) {
			out = append(out, path)
		}
	}
	walk(a.Body, b.Body, "$")
	sort.Strings(out)
	return slices.Compact(out)
}

// startUpstreamAPI brings up the upstream freezer-api, which `make
// testenv-up` leaves out; up.sh does nothing when it already runs.
func startUpstreamAPI(t *testing.T) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "tools", "testenv", "up.sh")
	if b, err := exec.Command("bash", up, "freezer-api-py").CombinedOutput(); err != nil {
		t.Fatalf("starting the upstream freezer-api: %v\n%s", err, b)
	}
}

// TestDifferentialAgainstUpstream sends the same sequence of requests to
// the test environment's upstream freezer-api (13.0) and to ours, with
// the same Keystone token, and compares the status and the normalised
// JSON of every answer. Each step whose answers differ must be listed,
// with its reason, in docs/api-differences.rst (testdata/api-differences.csv);
// a listed step whose answers no longer differ fails too, so the table
// stays the list of what differs.
func TestDifferentialAgainstUpstream(t *testing.T) {
	startUpstreamAPI(t)
	env := testenv.Load(t)
	authURL := env.Get(t, "OS_AUTH_URL")
	k := serviceKeystone(t, env)
	ours := newEnv(t, func(c *server.Config) { c.Auth = k; c.WWWAuthenticate = authURL })
	upstreamURL := "http://127.0.0.1:" + env.Get(t, "FREEZER_API_PORT_PY")
	if res, err := http.Get(upstreamURL + "/healthcheck"); err != nil {
		t.Fatalf("upstream freezer-api is not running (bash tools/testenv/up.sh freezer-api-py): %v", err)
	} else {
		res.Body.Close()
	}
	token := keystoneToken(t, env, "DEMO")
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	common := map[string]string{"p": env.Get(t, "DEMO_OS_PROJECT_ID"), "u": env.Get(t, "DEMO_OS_USER_ID"), "run": run}
	sides := []*diffSide{{name: "upstream", base: upstreamURL}, {name: "ours", base: ours.url}}
	for _, s := range sides {
		s.vars = map[string]string{"base": s.base}
		for k, v := range common {
			s.vars[k] = v
		}
	}
	// Whatever happens, leave nothing behind in the shared upstream database.
	t.Cleanup(func() {
		for _, s := range sides {
			for _, p := range []string{"/v2/{p}/backups/{backup}", "/v2/{p}/sessions/{session}", "/v2/{p}/jobs/{job}", "/v2/{p}/jobs/{orphan}", "/v2/{p}/actions/{action}", "/v2/{p}/clients/{client}"} {
				path := s.expand(p)
				if strings.Contains(path, "{") {
					continue
				}
				req, _ := http.NewRequestWithContext(context.Background(), "DELETE", s.base+path, nil)
				req.Header.Set("X-Auth-Token", token)
				if res, err := http.DefaultClient.Do(req); err == nil {
					res.Body.Close()
				}
			}
		}
	})
	known := knownDifferences(t)
	seen := map[string]bool{}
	var unexpected []string
	for _, st := range diffSequence {
		if seen[st.name] {
			t.Fatalf("step %s twice", st.name)
		}
		seen[st.name] = true
		up, our := sides[0].send(t, st, token), sides[1].send(t, st, token)
		ub, _ := json.Marshal(up)
		ob, _ := json.Marshal(our)
		got := strings.Join(diffPaths(up, our), " ")
		k, listed := known[st.name]
		switch {
		case got != "" && !listed:
			unexpected = append(unexpected, fmt.Sprintf("%s %s %s: differs at %s\n  upstream %s\n  ours     %s", st.name, st.method, st.path, got, ub, ob))
		case listed && got != k.paths:
			unexpected = append(unexpected, fmt.Sprintf("%s: listed in %s as differing at %q (%s), differs at %q\n  upstream %s\n  ours     %s",
				st.name, differencesFile, k.paths, k.reason, got, ub, ob))
		default:
			t.Logf("%s: upstream %s", st.name, ub)
			if listed {
				t.Logf("%s: ours     %s (known at %s: %s)", st.name, ob, k.paths, k.reason)
			}
		}
	}
	for name := range known {
		if !seen[name] {
			unexpected = append(unexpected, fmt.Sprintf("%s: listed in %s but no such step", name, differencesFile))
		}
	}
	if len(unexpected) > 0 {
		t.Fatalf("%d answers differ from upstream's without a reason in docs/api-differences.rst, or are listed and do not:\n%s",
			len(unexpected), strings.Join(unexpected, "\n"))
	}
}
