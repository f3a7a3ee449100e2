package server_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestBackups(t *testing.T) {
	e := newEnv(t)
	e.expect(memberP1, "POST", "/v2/p1/backups", nil, 400, `{"description":"Missing request body"}`)
	for _, bad := range []string{
		`{"hostname":"h","backup_name":"b"}`,
		`{"container":"","hostname":"h","backup_name":"b"}`,
		`{"container":"c","hostname":1,"backup_name":"b"}`,
		`{"container":"c","hostname":"h","backup_name":"b","status":"lost"}`,
	} {
		e.expect(memberP1, "POST", "/v2/p1/backups", bad, 400, `{"title":"Bad request format","description":"Bad Data Format"}`)
	}
	body := `{"container":"c1","hostname":"h1","backup_name":"etc","time_stamp":1790000000,"level":0,"job_id":"j1","encrypted":false,"excluded_files":[],"backup_id":"client-side","status":"creating","nested":{"a":[1,{"b":null}]}}`
	id := e.expect(memberP1, "POST", "/v2/p1/backups/", body, 201, "").str("backup_id")
	if len(id) != 32 || id == "client-side" {
		t.Fatalf("backup id %q", id)
	}
	e.expect(memberP1, "GET", "/v2/p1/backups/"+id, nil, 200, `{"backup_id":"`+id+`","project_id":"p1","user_id":"u1","status":"creating",
		"backup_metadata":{"container":"c1","hostname":"h1","backup_name":"etc","time_stamp":1790000000,"level":0,"job_id":"j1","encrypted":false,"excluded_files":[],"backup_id":"client-side","nested":{"a":[1,{"b":null}]}}}`)
	r := e.call(memberP1, "GET", "/v2/p1/backups/"+id, nil)
	if strings.Contains(string(r.raw), `"status":"creating"}`) && strings.Contains(string(r.raw), `"backup_metadata":{"status"`) {
		t.Fatal("status kept inside backup_metadata")
	}
	e.expect(memberP1, "PATCH", "/v2/p1/backups/"+id, `{"status":"available","backup_metadata":{"level":1,"new":"x"},"project_id":"p2","user_id":"evil"}`, 200,
		`{"backup_id":"`+id+`","project_id":"p1","user_id":"u1","status":"available","backup_metadata":{"level":1,"new":"x","container":"c1","time_stamp":1790000000}}`)
	e.expect(memberP1, "PATCH", "/v2/p1/backups/"+id, `{"status":"gone"}`, 400, `{"description":"'gone' is not one of ['creating', 'available', 'error', 'deleting', 'deleted']"}`)
	e.expect(memberP1, "PATCH", "/v2/p1/backups/"+id, `{"backup_metadata":[]}`, 400, "")
	e.expect(memberP1, "PATCH", "/v2/p1/backups/"+id, `{}`, 400, "")
	e.expect(memberP1, "PATCH", "/v2/p1/backups/"+id, nil, 400, `{"description":"Missing request body"}`)
	e.expect(memberP1, "PATCH", "/v2/p1/backups/nope", `{"status":"error"}`, 404, `{"description":"Backup not registered with ID nope"}`)
	e.expect(memberP1, "PUT", "/v2/p1/backups/"+id, body, 405, "")
	e.expect(memberP1, "POST", "/v2/p1/backups/"+id, body, 405, "")
	// The web UI's "get": a search on backup_id with limit=1.
	e.expect(memberP1, "GET", "/v2/p1/backups?limit=1", fmt.Sprintf(`{"match":[{"backup_id":"%s"}]}`, id), 200, `{"backups":[{"backup_id":"`+id+`"}]}`)
	e.expect(memberP1, "DELETE", "/v2/p1/backups/"+id, nil, 204, "")
	e.expect(memberP1, "DELETE", "/v2/p1/backups/"+id, nil, 204, "")
	e.expect(memberP1, "GET", "/v2/p1/backups/"+id, nil, 404, "")
	e.expect(memberP1, "GET", "/v2/p1/backups", nil, 200, `{"backups":[]}`)
}

func TestSearchAndPagination(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := 0; i < 25; i++ {
		host := "alpha"
		if i%2 == 1 {
			host = "Beta-Host"
		}
		b := fmt.Sprintf(`{"container":"c","hostname":"%s","backup_name":"b%d","time_stamp":%d,"level":"%d","n":%d}`, host, i, 1790000000+i, i%3, i)
		ids = append(ids, e.expect(memberP1, "POST", "/v2/p1/backups", b, 201, "").str("backup_id"))
	}
	page := func(q, search string) []string {
		return e.expect(memberP1, "GET", "/v2/p1/backups"+q, search, 200, "").ids("backups", "backup_id")
	}
	if got := page("", ""); strings.Join(got, ",") != strings.Join(ids[:10], ",") {
		t.Fatalf("default page is not the first 10 in insertion order")
	}
	if got := page("?limit=0&offset=20", ""); strings.Join(got, ",") != strings.Join(ids[20:], ",") {
		t.Fatalf("limit=0 offset=20 gave %d", len(got))
	}
	if got := page("?limit=5&offset=3", ""); strings.Join(got, ",") != strings.Join(ids[3:8], ",") {
		t.Fatal("limit/offset window wrong")
	}
	if got := page("?limit=100", `{"match":[{"hostname":"alpha"}]}`); len(got) != 13 {
		t.Fatalf("hostname alpha: %d", len(got))
	}
	// Exact, type-sensitive: "1" (string) is not 1 (number).
	if got := page("?limit=100", `{"match":[{"level":"1"}]}`); len(got) != 8 {
		t.Fatalf("level \"1\": %d", len(got))
	}
	if got := page("?limit=100", `{"match":[{"level":1}]}`); len(got) != 0 {
		t.Fatalf("level 1 (number) matched %d strings", len(got))
	}
	if got := page("?limit=100", `{"match":[{"n":7.0}]}`); len(got) != 1 || got[0] != ids[7] {
		t.Fatalf("n 7.0: %v", got)
	}
	// match entries are ANDed; match_not excludes.
	if got := page("?limit=100", `{"match":[{"hostname":"alpha"},{"level":"0"}],"match_not":[{"n":0}]}`); len(got) != 4 {
		t.Fatalf("and/not: %d", len(got))
	}
	// _all: free text, case-insensitive substring of any string value...
	if got := page("?limit=100", `{"match":[{"_all":"beta-h"}]}`); len(got) != 12 {
		t.Fatalf("_all beta-h: %d", len(got))
	}
	// ...and combined with the other entries (upstream dropped them).
	if got := page("?limit=100", `{"match":[{"_all":"beta"},{"level":"0"}]}`); len(got) != 4 {
		t.Fatalf("_all + level: %d", len(got))
	}
	// ...or a JSON list of match entries (upstream's SQL semantics).
	if got := page("?limit=100", `{"match":[{"_all":"[{\"backup_name\": \"b3\"}]"}]}`); len(got) != 1 || got[0] != ids[3] {
		t.Fatalf("_all list: %v", got)
	}
	if got := page("?limit=100", `{"match":[{"_all":"100%"}]}`); len(got) != 0 {
		t.Fatalf("LIKE wildcards not escaped: %d", len(got))
	}
	if got := page("?limit=3", `{"match_not":[{"hostname":"alpha"}]}`); strings.Join(got, ",") != strings.Join([]string{ids[1], ids[3], ids[5]}, ",") {
		t.Fatalf("match_not page: %v", got)
	}
	if got := page("?limit=100", `{}`); len(got) != 25 {
		t.Fatalf("empty search: %d", len(got))
	}
	// A ?search= query parameter is ignored, as upstream.
	if got := page("?search=alpha", ""); len(got) != 10 {
		t.Fatalf("?search= filtered: %d", len(got))
	}
}
