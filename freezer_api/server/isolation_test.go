package server_test

import (
	"strings"
	"testing"
)

// TestIsolation: a member of p2 gets 403 on every route of p1, and 404 (or
// an idempotent no-op) when it addresses p1's resources through its own
// project; p1's rows never appear in p2's lists or searches.
func TestIsolation(t *testing.T) {
	e := withClient(t)
	a := memberP1
	actionID := e.expect(a, "POST", "/v2/p1/actions", `{"action_id":"act-a","freezer_action":{"action":"backup","backup_name":"secret-a"}}`, 201, "").str("action_id")
	jobID := e.expect(a, "POST", "/v2/p1/jobs", strings.Replace(jobBody, `"client_id"`, `"job_id":"job-a","client_id"`, 1), 201, "").str("job_id")
	sessID := e.expect(a, "POST", "/v2/p1/sessions/sess-a", `{"schedule":{},"description":"secret-a"}`, 201, "").str("session_id")
	e.expect(a, "PUT", "/v2/p1/sessions/"+sessID+"/jobs/"+jobID, nil, 204, "")
	backupID := e.expect(a, "POST", "/v2/p1/backups", `{"container":"c","hostname":"h1","backup_name":"secret-a"}`, 201, "").str("backup_id")
	const clientID = "p1_h1"

	type rt struct {
		method, path, body string
	}
	routes := func(p string) []rt {
		return []rt{
			{"GET", "/v2/" + p + "/jobs", ""},
			{"POST", "/v2/" + p + "/jobs", jobBody},
			{"GET", "/v2/" + p + "/jobs/" + jobID, ""},
			{"PATCH", "/v2/" + p + "/jobs/" + jobID, `{"description":"pwned"}`},
			{"POST", "/v2/" + p + "/jobs/" + jobID, jobBody},
			{"DELETE", "/v2/" + p + "/jobs/" + jobID, ""},
			{"POST", "/v2/" + p + "/jobs/" + jobID + "/event", `{"start":null}`},
			{"GET", "/v2/" + p + "/actions", ""},
			{"POST", "/v2/" + p + "/actions", `{"freezer_action":{"action":"backup"}}`},
			{"GET", "/v2/" + p + "/actions/" + actionID, ""},
			{"PATCH", "/v2/" + p + "/actions/" + actionID, `{"max_retries":0}`},
			{"POST", "/v2/" + p + "/actions/" + actionID, `{"freezer_action":{"action":"exec"}}`},
			{"DELETE", "/v2/" + p + "/actions/" + actionID, ""},
			{"GET", "/v2/" + p + "/sessions", ""},
			{"POST", "/v2/" + p + "/sessions", `{"schedule":{}}`},
			{"GET", "/v2/" + p + "/sessions/" + sessID, ""},
			{"PATCH", "/v2/" + p + "/sessions/" + sessID, `{"description":"pwned"}`},
			{"POST", "/v2/" + p + "/sessions/" + sessID, `{"schedule":{},"description":"pwned"}`},
			{"DELETE", "/v2/" + p + "/sessions/" + sessID, ""},
			{"POST", "/v2/" + p + "/sessions/" + sessID + "/action", `{"start":{"job_id":"` + jobID + `","current_tag":0}}`},
			{"PUT", "/v2/" + p + "/sessions/" + sessID + "/jobs/" + jobID, ""},
			{"DELETE", "/v2/" + p + "/sessions/" + sessID + "/jobs/" + jobID, ""},
			{"GET", "/v2/" + p + "/clients", ""},
			{"POST", "/v2/" + p + "/clients", `{"client_id":"` + clientID + `"}`},
			{"GET", "/v2/" + p + "/clients/" + clientID, ""},
			{"DELETE", "/v2/" + p + "/clients/" + clientID, ""},
			{"GET", "/v2/" + p + "/backups", ""},
			{"POST", "/v2/" + p + "/backups", `{"container":"c","hostname":"h","backup_name":"b"}`},
			{"GET", "/v2/" + p + "/backups/" + backupID, ""},
			{"PATCH", "/v2/" + p + "/backups/" + backupID, `{"status":"error"}`},
			{"DELETE", "/v2/" + p + "/backups/" + backupID, ""},
		}
	}
	snapshot := func() string {
		var b strings.Builder
		for _, p := range []string{"/v2/p1/jobs/" + jobID, "/v2/p1/actions/" + actionID, "/v2/p1/sessions/" + sessID, "/v2/p1/clients/" + clientID, "/v2/p1/backups/" + backupID} {
			r := e.expect(a, "GET", p, nil, 200, "")
			b.Write(r.raw)
		}
		return b.String()
	}
	before := snapshot()

	// 1. p2's token on p1's URLs: 403 everywhere; readers of p1 too for writes.
	for _, r := range routes("p1") {
		var body any
		if r.body != "" {
			body = r.body
		}
		e.expect(memberP2, r.method, r.path, body, 403, `{"title":"Access Forbidden"}`)
	}
	if after := snapshot(); after != before {
		t.Fatalf("p1's resources changed after p2's 403s:\n%s\n%s", before, after)
	}

	// 2. p2 addressing p1's ids under its own project: never p1's rows.
	for _, r := range routes("p2") {
		var body any
		if r.body != "" {
			body = r.body
		}
		res := e.call(memberP2, r.method, r.path, body)
		if strings.Contains(string(res.raw), "secret-a") {
			t.Errorf("%s %s leaked p1 data: %s", r.method, r.path, res.raw)
		}
		isItem := strings.Count(r.path, "/") > 3
		switch {
		case !isItem:
			// collections: lists and creates in p2 are fine
		case r.method == "DELETE":
			if res.status != 204 && res.status != 404 {
				t.Errorf("%s %s: %d", r.method, r.path, res.status)
			}
		case r.method == "POST" && !strings.HasSuffix(r.path, "/event") && !strings.HasSuffix(r.path, "/action"):
			// create-or-replace creates p2's own resource with that id
			if res.status != 201 && res.status != 422 {
				t.Errorf("%s %s: %d %s", r.method, r.path, res.status, res.raw)
			}
		case res.status == 200 && res.str("project_id") == "p2":
			// p2 registered its own client with the same client_id
			// earlier in this loop: its row, not p1's.
		default:
			if res.status != 404 {
				t.Errorf("%s %s as p2: status %d, want 404: %s", r.method, r.path, res.status, res.raw)
			}
		}
	}
	if after := snapshot(); after != before {
		t.Fatalf("p1's resources changed by p2's requests:\n%s\n%s", before, after)
	}

	// 3. No list or search in p2 shows a p1 row.
	for _, coll := range []string{"jobs", "actions", "sessions", "clients", "backups"} {
		for _, search := range []string{"", `{"match":[{"project_id":"p1"}]}`, `{"match":[{"_all":"secret"}]}`,
			`{"match":[{"_all":"[{\"project_id\": \"p1\"}]"}]}`, `{"match_not":[{"project_id":"p2"}]}`} {
			var body any
			if search != "" {
				body = search
			}
			r := e.expect(memberP2, "GET", "/v2/p2/"+coll+"?limit=1000&all_projects=true", body, 200, "")
			for _, item := range r.list(coll) {
				if pid := item.(map[string]any)["project_id"]; pid != "p2" {
					t.Errorf("p2's %s list (search %s) shows a row of %v", coll, search, pid)
				}
			}
		}
	}
	// p1's own view is intact.
	e.expect(a, "GET", "/v2/p1/backups", `{"match":[{"_all":"secret"}]}`, 200, `{"backups":[{"backup_id":"`+backupID+`"}]}`)
}

// TestAllProjects: only admin/service callers see every project, and only
// when they ask for it (upstream ignored all_projects).
func TestAllProjects(t *testing.T) {
	e := withClient(t)
	e.expect(memberP2, "POST", "/v2/p2/clients", `{"client_id":"p2_h"}`, 201, "")
	e.expect(memberP1, "POST", "/v2/p1/jobs", jobBody, 201, "")
	e.expect(memberP2, "POST", "/v2/p2/jobs", strings.Replace(jobBody, "p1_h1", "p2_h", 1), 201, "")
	count := func(as who, q string) int {
		return len(e.expect(as, "GET", "/v2/"+as.project+"/jobs"+q, nil, 200, "").list("jobs"))
	}
	if n := count(memberP1, "?all_projects=True"); n != 1 {
		t.Fatalf("member with all_projects sees %d jobs", n)
	}
	if n := count(adminP2, ""); n != 1 {
		t.Fatalf("admin without all_projects sees %d jobs", n)
	}
	if n := count(adminP2, "?all_projects=true"); n != 2 {
		t.Fatalf("admin with all_projects sees %d jobs", n)
	}
	if n := count(svcP9, "?all_projects=1"); n != 2 {
		t.Fatalf("service with all_projects sees %d jobs", n)
	}
}
