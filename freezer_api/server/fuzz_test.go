package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestDecoders sends arbitrary bodies to every route that decodes
// one (including search bodies on GET). Whatever the input, the answer is
// never a 5xx, and it is JSON.
func FuzzRequestDecoders(f *testing.F) {
	e := newEnv(f)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p1_h1"}`, 201, "")
	e.expect(memberP1, "POST", "/v2/p1/jobs/j1", `{"client_id":"p1_h1","job_actions":[{"freezer_action":{"action":"backup"}}]}`, 201, "")
	e.expect(memberP1, "POST", "/v2/p1/actions/a1", `{"freezer_action":{"action":"backup"}}`, 201, "")
	e.expect(memberP1, "POST", "/v2/p1/sessions/s1", `{"schedule":{}}`, 201, "")
	e.expect(memberP1, "PUT", "/v2/p1/sessions/s1/jobs/j1", nil, 204, "")
	b := e.expect(memberP1, "POST", "/v2/p1/backups", `{"container":"c","hostname":"h","backup_name":"b"}`, 201, "").str("backup_id")
	routes := []struct{ method, path string }{
		{"POST", "/v2/p1/jobs"}, {"POST", "/v2/p1/jobs/j2"}, {"PATCH", "/v2/p1/jobs/j1"}, {"POST", "/v2/p1/jobs/j1/event"},
		{"POST", "/v2/p1/actions"}, {"POST", "/v2/p1/actions/a2"}, {"PATCH", "/v2/p1/actions/a1"},
		{"POST", "/v2/p1/sessions"}, {"POST", "/v2/p1/sessions/s2"}, {"PATCH", "/v2/p1/sessions/s1"}, {"POST", "/v2/p1/sessions/s1/action"},
		{"POST", "/v2/p1/clients"}, {"POST", "/v2/p1/backups"}, {"PATCH", "/v2/p1/backups/" + b},
		{"GET", "/v2/p1/jobs"}, {"GET", "/v2/p1/actions"}, {"GET", "/v2/p1/sessions"}, {"GET", "/v2/p1/clients"}, {"GET", "/v2/p1/backups"},
	}
	for _, s := range []string{
		`{"client_id":"p1_h1","job_actions":[{"action_id":"a1"}],"action_defaults":{"storage":"swift"}}`,
		`{"job_schedule":{"status":"running","current_pid":1.5}}`, `{"start":null}`, `{"start":{"job_id":"j1","current_tag":"1"}}`,
		`{"end":{"job_id":"j1","current_tag":0,"result":"success"}}`, `{"freezer_action":{"action":"x"},"max_retries":1e400}`,
		`{"schedule":{"schedule_interval":"1 days"},"jobs":{"j1":{"time_started":"x"}}}`, `{"client_id":"p1_h","supported_modes":["fs"]}`,
		`{"container":"c","hostname":"h","backup_name":"b","time_stamp":1,"x":{"y":[null,true,1.25]}}`,
		`{"match":[{"_all":"[{\"a\":1}]"},{"k":{"n":[1]}}],"match_not":[{"x":null}]}`, `{"status":"error","backup_metadata":{"a":1}}`,
		`[]`, `null`, `"x"`, `{"a":`, "\x00", `{"jobs":[1,2]}`, `{"` + strings.Repeat("k", 300) + `":"v"}`,
	} {
		for i := range routes {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		req := httptest.NewRequest(r.method, r.path+"?limit=5", bytes.NewReader(body))
		req.Header.Set("X-Project-Id", "p1")
		req.Header.Set("X-User-Id", "u1")
		req.Header.Set("X-Roles", "member")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", r.method, r.path, body, rec.Code, rec.Body.String())
		}
		if rec.Code != http.StatusNoContent && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s %q: body is not JSON: %q", r.method, r.path, body, rec.Body.String())
		}
	})
}

// FuzzPaths: arbitrary paths are answered, never with a 5xx.
func FuzzPaths(f *testing.F) {
	e := newEnv(f)
	for _, p := range []string{"/", "//v2//p1//jobs//", "/v2/p1/v2/p1/jobs/", "/v2/p1/jobs/%2F..%2F", "/v2/%00/x", "/healthcheck", "/v2"} {
		f.Add("GET", p)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#?") {
			return
		}
		req, err := http.NewRequest(method, "http://x"+path, nil)
		if err != nil {
			return
		}
		req.Header.Set("X-Project-Id", "p1")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code >= 500 && path != "/healthcheck" {
			t.Fatalf("%s %q: %d %s", method, path, rec.Code, rec.Body.String())
		}
	})
}
