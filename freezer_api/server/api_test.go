package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/server"
)

func TestVersionsHomeAndUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	host := strings.TrimPrefix(e.url, "http://")
	r := e.expect(memberP1, "GET", "/", nil, 300, `{"versions":[{"id":"v2","status":"CURRENT","updated":"2018-02-21T13:30:00","links":[{"href":"http://`+host+`/v2/","rel":"self"}]}]}`)
	if !strings.HasPrefix(r.header.Get("X-Openstack-Request-Id"), "req-") {
		t.Fatalf("no request id: %v", r.header)
	}
	// The host of each request, never the first caller's (upstream bug).
	e.expect(memberP1, "GET", "/", nil, 300, `{"versions":[{"links":[{"href":"http://example.test/v2/"}]}]}`, "Host", "example.test")
	r = e.expect(memberP1, "GET", "/v2", nil, 200, `{"resources":{"rel/backups":{"href-template":"/v2/{project_id}/backups/{backup_id}","href-vars":{"project_id":"param/project_id","backup_id":"param/backup_id"},"hints":{"allow":["GET"],"formats":{"application/json":{}}}},"rel/jobs":{"hints":{"allow":["GET","POST"]}},"rel/job":{"hints":{"allow":["GET","PATCH","POST","DELETE"]}}}}`)
	if ct := r.header.Get("Content-Type"); ct != "application/json-home" {
		t.Fatalf("homedoc content type %q", ct)
	}
	e.expect(memberP1, "GET", "/v2/", nil, 200, "")
	e.expect(memberP1, "GET", "/v1/p1/jobs", nil, 404, `{"title":"404 Not Found"}`)
	e.expect(memberP1, "GET", "/v2/jobs", nil, 404, `{"title":"404 Not Found"}`)
	e.expect(memberP1, "GET", "/v2/p1", nil, 404, "")
	e.expect(memberP1, "PUT", "/v2/p1/jobs", nil, 405, `{"title":"405 Method Not Allowed"}`)
	e.expect(memberP1, "HEAD", "/v2/p1/jobs", nil, 405, "")
	if r := e.expect(memberP1, "OPTIONS", "/v2/p1/jobs/j1", nil, 200, ""); r.header.Get("Allow") != "GET, POST, PATCH, DELETE" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	if r := e.expect(memberP1, "DELETE", "/v2/p1/jobs", nil, 405, ""); r.header.Get("Allow") != "GET, POST" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 406, "", "Accept", "text/html")
	e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 200, `{"jobs":[]}`, "Accept", "application/json")
	// An incoming request id is kept, a malformed one replaced.
	const rid = "req-0f8e1f2a-3b4c-4d5e-8f60-718293a4b5c6"
	r = e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 200, "", "X-Openstack-Request-Id", rid)
	if got := r.header.Get("X-Openstack-Request-Id"); got != rid {
		t.Fatalf("request id %q, want %q", got, rid)
	}
	r = e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 200, "", "X-Openstack-Request-Id", "req-<script>")
	if got := r.header.Get("X-Openstack-Request-Id"); !strings.HasPrefix(got, "req-") || got == rid {
		t.Fatalf("request id %q", got)
	}
	if !strings.Contains(e.logs.String(), `"request_id":"`+rid+`"`) {
		t.Fatalf("log lacks the request id:\n%s", e.logs.String())
	}
}

func TestPathForms(t *testing.T) {
	e := newEnv(t)
	e.expect(memberP1, "POST", "/v2/p1/clients/", `{"client_id":"p1_h1","hostname":"h1"}`, 201, `{"client_id":"p1_h1"}`)
	for _, p := range []string{"/v2/p1/clients", "/v2/p1/clients/", "//v2/p1/clients/", "/v2//p1/clients", "/v2/p1/v2/p1/clients/"} {
		e.expect(memberP1, "GET", p, nil, 200, `{"clients":[{"client":{"client_id":"p1_h1"}}]}`)
	}
	e.expect(memberP1, "GET", "/v2/p1/clients/p1_h1/", nil, 200, `{"client":{"client_id":"p1_h1"}}`)
}

func TestHealthcheckAndMetrics(t *testing.T) {
	disable := filepath.Join(t.TempDir(), "healthcheck_disable")
	e := newEnv(t, func(c *server.Config) { c.HealthcheckDisableFile = disable })
	r := e.expect(memberP1, "GET", "/healthcheck", nil, 200, "")
	if string(r.raw) != "OK" {
		t.Fatalf("healthcheck body %q", r.raw)
	}
	os.WriteFile(disable, nil, 0o600)
	e.expect(memberP1, "GET", "/healthcheck", nil, 503, "")
	os.Remove(disable)
	e.st.Close()
	e.expect(memberP1, "GET", "/healthcheck", nil, 503, "")

	e = newEnv(t)
	e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 200, "")
	e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 200, "") // from the job cache
	e.expect(memberP1, "GET", "/v2/p1/jobs/nope", nil, 404, "")
	r = e.call(memberP1, "GET", "/metrics", nil)
	for _, want := range []string{
		`freezer_api_requests_total{method="GET",route="/v2/{project_id}/jobs",status="200"} 2`,
		`freezer_api_requests_total{method="GET",route="/v2/{project_id}/jobs/{job_id}",status="404"} 1`,
		`freezer_api_request_duration_seconds_bucket{method="GET",route="/v2/{project_id}/jobs"`,
		`freezer_api_db_open_connections`, `freezer_api_db_max_open_connections`,
		"freezer_api_job_cache_hits_total 1\n", "freezer_api_job_cache_misses_total 2\n", "freezer_api_job_cache_entries 2\n",
		"freezer_api_job_cache_generation_reads_total 3\n", "freezer_api_job_get_reads_total 1\n",
	} {
		if !strings.Contains(string(r.raw), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

type panicAuth struct{}

func (panicAuth) Authenticate(context.Context, *http.Request) (*auth.Identity, error) {
	panic("boom")
}

func TestPanicBecomes500WithRequestID(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.Auth = panicAuth{} })
	r := e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 500, `{"title":"Internal Server Error"}`)
	if rid := r.str("request_id"); rid == "" || rid != r.header.Get("X-Openstack-Request-Id") {
		t.Fatalf("500 body request id %q, header %q", rid, r.header.Get("X-Openstack-Request-Id"))
	}
	// The server goes on serving.
	e.expect(memberP1, "GET", "/", nil, 300, "")
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/v2/p1/jobs", "/v2/p1/actions", "/v2/p1/sessions", "/v2/p1/clients", "/v2/p1/backups"} {
		e.expect(memberP1, "POST", path, nil, 400, `{"title":"Bad request format","description":"Missing request body"}`)
		e.expect(memberP1, "POST", path, `{"a":`, 400, `{"title":"Malformed JSON"}`)
		e.expect(memberP1, "POST", path, `{"a":1} {"b":2}`, 400, `{"title":"Malformed JSON"}`)
		e.expect(memberP1, "POST", path, `[1,2]`, 400, `{"title":"Bad request format"}`)
		e.expect(memberP1, "POST", path, "\xff\xfe", 400, "")
		e.expect(memberP1, "GET", path, `{"match": "x"}`, 400, "")
		e.expect(memberP1, "GET", path, `{"match": [1]}`, 400, "")
		e.expect(memberP1, "GET", path, `not json`, 400, `{"title":"Malformed JSON"}`)
		e.expect(memberP1, "GET", path+"?limit=abc", nil, 400, `{"title":"Invalid parameter","description":"The \"limit\" parameter is invalid. The value must be an integer."}`)
		e.expect(memberP1, "GET", path+"?offset=x", nil, 400, `{"title":"Invalid parameter"}`)
		e.expect(memberP1, "GET", path+"?limit=-1", nil, 400, `{"title":"Invalid parameter"}`)
		big := `{"x":"` + strings.Repeat("a", 70<<10) + `"}`
		e.expect(memberP1, "POST", path, big, 413, `{"title":"Request Entity Too Large"}`)
	}
	e.expect(memberP1, "GET", "/v2/p1/jobs?all_projects=maybe", nil, 400, `{"title":"Invalid parameter"}`)
	// Values longer than their columns are refused before the database
	// (MySQL in strict mode would fail the insert).
	long := strings.Repeat("x", 300)
	e.expect(memberP1, "POST", "/v2/p1/actions", `{"freezer_action":{"action":"`+long+`"}}`, 400, "")
	e.expect(memberP1, "POST", "/v2/p1/sessions", `{"schedule":{},"status":"`+long+`"}`, 400, "")
	e.expect(memberP1, "POST", "/v2/p1/jobs/"+long, `{}`, 400, "")
	e.expect(memberP1, "GET", "/v2/"+long+"/jobs", nil, 404, "")
	e.expect(who{long, "u", "member"}, "GET", "/v2/p1/jobs", nil, 401, "")
	e.expect(memberP1, "POST", "/v2/p1/backups", `{"container":"c","hostname":"`+long+`","backup_name":"b","job_id":"`+long+`"}`, 201, "")
}

func TestPolicyDefaults(t *testing.T) {
	e := newEnv(t)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p1_h1"}`, 201, "")
	e.expect(readerP1, "GET", "/v2/p1/clients", nil, 200, `{"clients":[{"client":{"client_id":"p1_h1"}}]}`)
	e.expect(readerP1, "POST", "/v2/p1/clients", `{"client_id":"p1_h2"}`, 403, `{"title":"Access Forbidden","description":"You are not allowed to access this resource"}`)
	e.expect(readerP1, "DELETE", "/v2/p1/clients/p1_h1", nil, 403, "")
	e.expect(noRoleP1, "GET", "/v2/p1/clients", nil, 403, "")
	e.expect(memberP2, "GET", "/v2/p1/clients", nil, 403, "")
	// admin of another project may act on p1 (upstream's admin_or_owner).
	e.expect(adminP2, "GET", "/v2/p1/clients", nil, 200, `{"clients":[{"client":{"client_id":"p1_h1"}}]}`)
	// service may write backups into any project, nothing else.
	e.expect(svcP9, "POST", "/v2/p1/backups", `{"container":"c","hostname":"h","backup_name":"b"}`, 201, "")
	e.expect(svcP9, "POST", "/v2/p1/actions", `{"freezer_action":{"action":"backup"}}`, 403, "")
}

func TestClients(t *testing.T) {
	e := newEnv(t)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p1_node1.example.org","hostname":"node1","description":"first","supported_storages":["swift","local"]}`, 201, `{"client_id":"p1_node1.example.org"}`)
	r := e.expect(memberP1, "GET", "/v2/p1/clients/p1_node1.example.org", nil, 200,
		`{"project_id":"p1","user_id":"u1","client":{"client_id":"p1_node1.example.org","hostname":"node1","description":"first","is_central":false,
		"supported_storages":["swift","local"]}}`)
	// Capabilities are answered as sent, as upstream does: no default lists.
	for _, k := range []string{"supported_actions", "supported_modes", "supported_engines"} {
		if _, has := r.body.(map[string]any)["client"].(map[string]any)[k]; has {
			t.Fatalf("%s added to a client that sent none: %s", k, r.raw)
		}
	}
	uuid := r.body.(map[string]any)["client"].(map[string]any)["uuid"].(string)
	if len(uuid) != 32 {
		t.Fatalf("uuid %q", uuid)
	}
	// Re-registering updates description and capabilities only.
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p1_node1.example.org","hostname":"other","description":"second"}`, 201, "")
	e.expect(memberP1, "GET", "/v2/p1/clients/p1_node1.example.org", nil, 200, `{"client":{"uuid":"`+uuid+`","hostname":"node1","description":"second"}}`)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"bad%project$id_host"}`, 400, `{"title":"Bad request format"}`)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p_bad_hostname.bad/domain.b"}`, 400, "")
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"hostname":"h"}`, 400, `{"description":"'client_id' is a required property"}`)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p1_h","supported_storages":["tape"]}`, 400, `{"description":"'tape' is not one of ['local', 'swift', 'ssh', 's3', 'ftp', 'ftps']"}`)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"padawan-ccp-c1-m1-mgmt"}`, 201, "")
	// Central clients: only admin/service may register; visible everywhere.
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"central1","is_central":true}`, 403, "")
	e.expect(svcP9, "POST", "/v2/p9/clients", `{"client_id":"central1","is_central":true}`, 201, "")
	e.expect(memberP2, "GET", "/v2/p2/clients/central1", nil, 200, `{"project_id":"p9","client":{"client_id":"central1","is_central":true}}`)
	r = e.expect(memberP1, "GET", "/v2/p1/clients?limit=100", nil, 200, "")
	if got := strings.Join(r.ids("clients", "client_id"), ","); got != "p1_node1.example.org,padawan-ccp-c1-m1-mgmt,central1" {
		t.Fatalf("client list %s", got)
	}
	e.expect(memberP2, "POST", "/v2/p2/clients", `{"client_id":"central1"}`, 409, `{"title":"Document already existing","description":"Client central1 is already registered by another project"}`)
	e.expect(memberP2, "DELETE", "/v2/p2/clients/central1", nil, 403, "")
	e.expect(svcP9, "GET", "/v2/p9/clients/central1", nil, 200, "")
	// Non-central ids may repeat across projects.
	e.expect(memberP2, "POST", "/v2/p2/clients", `{"client_id":"p1_node1.example.org"}`, 201, "")
	e.expect(memberP1, "DELETE", "/v2/p1/clients/p1_node1.example.org", nil, 204, "")
	e.expect(memberP1, "DELETE", "/v2/p1/clients/p1_node1.example.org", nil, 204, "")
	e.expect(memberP1, "GET", "/v2/p1/clients/p1_node1.example.org", nil, 404, `{"title":"Not Found"}`)
	e.expect(memberP2, "GET", "/v2/p2/clients/p1_node1.example.org", nil, 200, "")
}

func TestActions(t *testing.T) {
	e := newEnv(t)
	r := e.expect(memberP1, "POST", "/v2/p1/actions/", `{"freezer_action":{"action":"backup","mode":"fs","path_to_backup":"/etc","custom_opt":{"k":[1,2]},"big":12345678901234567},"mandatory":true}`, 201, "")
	id := r.str("action_id")
	if len(id) != 32 {
		t.Fatalf("action id %q", id)
	}
	e.expect(memberP1, "GET", "/v2/p1/actions/"+id, nil, 200, `{"action_id":"`+id+`","project_id":"p1","user_id":"u1","mandatory":true,
		"freezer_action":{"action":"backup","mode":"fs","path_to_backup":"/etc","custom_opt":{"k":[1,2]},"big":12345678901234567,"backup_name":null,"container":null,"timeout":null,"priority":null,"log_file":null}}`)
	e.expect(memberP1, "POST", "/v2/p1/actions", `{"action_id":"my-action","freezer_action":{"action":"restore"}}`, 201, `{"action_id":"my-action"}`)
	e.expect(memberP1, "POST", "/v2/p1/actions", `{"action_id":"my-action","freezer_action":{"action":"restore"}}`, 409, `{"title":"Document already existing"}`)
	e.expect(memberP1, "POST", "/v2/p1/actions", `{"max_retries":1}`, 400, `{"description":"'freezer_action' is a required property"}`)
	e.expect(memberP1, "POST", "/v2/p1/actions", `{"freezer_action":{"mode":"fs"}}`, 400, `{"description":"'action' is a required property"}`)
	e.expect(memberP1, "POST", "/v2/p1/actions", `{"freezer_action":{"action":"backup"},"max_retries":"5"}`, 400, `{"description":"'5' is not of type 'integer'"}`)
	e.expect(memberP1, "POST", "/v2/p1/actions", `{"action_id":"bad id","freezer_action":{"action":"backup"}}`, 400, "")
	// PATCH changes only what it names.
	e.expect(memberP1, "PATCH", "/v2/p1/actions/"+id, `{"max_retries":9}`, 200, `{"action_id":"`+id+`","version":2}`)
	e.expect(memberP1, "GET", "/v2/p1/actions/"+id, nil, 200, `{"max_retries":9,"mandatory":true,"freezer_action":{"action":"backup","mode":"fs"}}`)
	if _, has := e.expect(memberP1, "GET", "/v2/p1/actions/"+id, nil, 200, "").body.(map[string]any)["max_retries_interval"]; has {
		t.Fatal("max_retries_interval defaulted")
	}
	e.expect(memberP1, "PATCH", "/v2/p1/actions/"+id, `{"freezer_action":{"action":"restore","restore_abs_path":"/tmp"},"project_id":"p2","user_id":"evil"}`, 200, `{"version":3}`)
	e.expect(memberP1, "GET", "/v2/p1/actions/"+id, nil, 200, `{"project_id":"p1","user_id":"u1","freezer_action":{"action":"restore","restore_abs_path":"/tmp","mode":"fs"}}`)
	// A partial freezer_action is merged into the stored one, as upstream
	// does; a null removes a key; the merged set still needs an action.
	e.expect(memberP1, "PATCH", "/v2/p1/actions/"+id, `{"freezer_action":{"restore_abs_path":"/srv","mode":null}}`, 200, `{"version":4}`)
	e.expect(memberP1, "GET", "/v2/p1/actions/"+id, nil, 200, `{"freezer_action":{"action":"restore","restore_abs_path":"/srv","mode":null,"custom_opt":{"k":[1,2]}}}`)
	e.expect(memberP1, "PATCH", "/v2/p1/actions/"+id, `{"freezer_action":{"action":null}}`, 400, "")
	e.expect(memberP1, "PATCH", "/v2/p1/actions/"+id, `{"max_retries":true}`, 400, "")
	e.expect(memberP1, "PATCH", "/v2/p1/actions/nope", `{"max_retries":1}`, 404, `{"title":"Not Found"}`)
	// POST on the item creates or replaces.
	e.expect(memberP1, "POST", "/v2/p1/actions/"+id, `{"freezer_action":{"action":"info"}}`, 201, `{"action_id":"`+id+`","version":5}`)
	e.expect(memberP1, "GET", "/v2/p1/actions/"+id, nil, 200, `{"mandatory":false,"freezer_action":{"action":"info","mode":null}}`)
	e.expect(memberP1, "POST", "/v2/p1/actions/new-one", `{"freezer_action":{"action":"info"}}`, 201, `{"action_id":"new-one","version":1}`)
	e.expect(memberP1, "PUT", "/v2/p1/actions/new-one", `{"freezer_action":{"action":"info"}}`, 405, "")
	r = e.expect(memberP1, "GET", "/v2/p1/actions?limit=2", nil, 200, "")
	if got := strings.Join(r.ids("actions", "action_id"), ","); got != id+",my-action" {
		t.Fatalf("first page %s", got)
	}
	r = e.expect(memberP1, "GET", "/v2/p1/actions?limit=2&offset=2", nil, 200, "")
	if got := strings.Join(r.ids("actions", "action_id"), ","); got != "new-one" {
		t.Fatalf("second page %s", got)
	}
	e.expect(memberP1, "DELETE", "/v2/p1/actions/"+id, nil, 204, "")
	e.expect(memberP1, "DELETE", "/v2/p1/actions/"+id, nil, 204, "")
	e.expect(memberP1, "GET", "/v2/p1/actions/"+id, nil, 404, "")
}

// TestUnauthenticatedBeforeRouting: as with keystonemiddleware in front of
// the Python service, a request without valid credentials gets 401 and
// WWW-Authenticate on every path but / and /healthcheck (and /metrics),
// whether or not the path is routed: an unknown path is not a 404 and a
// wrong method not a 405.
func TestUnauthenticatedBeforeRouting(t *testing.T) {
	const uri = "http://keystone.example/v3"
	e := newEnv(t, func(c *server.Config) { c.WWWAuthenticate = uri })
	nobody := who{project: strings.Repeat("x", 65)} // NoAuth refuses it like a bad token
	for _, p := range []struct{ method, path string }{
		{"GET", "/v2/jobs"}, {"GET", "/v2/p1/jobs"}, {"GET", "/v2"}, {"GET", "/nope"},
		{"PUT", "/v2/p1/jobs"}, {"DELETE", "/v2/p1/clients/x"}, {"GET", "/v2/p1/jobs/"},
	} {
		r := e.expect(nobody, p.method, p.path, nil, 401, `{"error":{"code":401,"title":"Unauthorized"}}`)
		if got := r.header.Get("WWW-Authenticate"); got != `Keystone uri="`+uri+`"` {
			t.Fatalf("%s %s: WWW-Authenticate %q", p.method, p.path, got)
		}
	}
	e.expect(nobody, "GET", "/", nil, 300, "")
	e.expect(nobody, "GET", "/healthcheck", nil, 200, "")
	e.expect(nobody, "GET", "/metrics", nil, 200, "")
	// Authenticated, the same paths are routed as before.
	e.expect(memberP1, "GET", "/v2/jobs", nil, 404, "")
	e.expect(memberP1, "PUT", "/v2/p1/jobs", nil, 405, "")
}
