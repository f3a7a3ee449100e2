package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	return openTestAt(t, filepath.Join(t.TempDir(), "f.db"), Options{})
}

// openTestAt opens (and migrates) the SQLite database at path.
func openTestAt(t testing.TB, path string, o Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:///"+path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// openWithClient is openTest with one registered client in sc's project.
func openWithClient(t testing.TB, sc Scope, clientID string) *Store {
	t.Helper()
	s := openTest(t)
	if _, err := s.RegisterClient(context.Background(), sc, apiv2.ClientInfo{ClientID: clientID, Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct{ in, d, dsn string }{
		{"sqlite:///freezer.db", "sqlite", "file:freezer.db?"},
		{"sqlite:////var/lib/freezer/f.db", "sqlite", "file:/var/lib/freezer/f.db?"},
		{"sqlite://", "sqlite", "file::memory:?"},
		{"mysql+pymysql://freezer:s3cret@db.example:3307/freezer?charset=utf8", "mysql", "freezer:s3cret@tcp(db.example:3307)/freezer?"},
		{"mysql://root@127.0.0.1/fz", "mysql", "root@tcp(127.0.0.1:3306)/fz?"},
		{"mysql+pymysql://u:p@/fz?unix_socket=/run/mysqld.sock", "mysql", "u:p@unix(/run/mysqld.sock)/fz?"},
	} {
		d, dsn, err := ParseURL(tc.in)
		if err != nil || string(d) != tc.d || !strings.HasPrefix(dsn, tc.dsn) {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q...", tc.in, d, dsn, err, tc.d, tc.dsn)
		}
	}
	for _, bad := range []string{"freezer.db", "postgresql://u@h/db", "mysql://u:s3cr3tpw@h/", "sqlite:///"} {
		_, _, err := ParseURL(bad)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		} else if strings.Contains(err.Error(), "s3cr3tpw") {
			t.Errorf("error leaks password: %v", err)
		}
	}
}

func TestDocTermsShallowestWinsAndTypes(t *testing.T) {
	terms, err := docTerms([]byte(`{"a":{"status":"inner","top":2},"status":"outer","x":{"top":1,"y":{"top":3}},"b":{"status":"inner","n":1.0,"list":[{"deep":true}]},"s":"1","long":"` + strings.Repeat("x", 300) + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tm := range terms {
		got[tm.k] = tm.v
	}
	if got["status"] != "s:outer" || got["top"] != "n:2" || got["n"] != "n:1" || got["s"] != "s:1" || got["deep"] != "b:1" || !strings.HasPrefix(got["long"], "h:") || !strings.HasPrefix(got["a"], "h:") {
		t.Fatalf("terms: %v", got)
	}
	if canonical(normalize(float64(1))) != got["n"] {
		t.Fatal("1 and 1.0 differ")
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	applied, err := s.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v, %v", applied, err)
	}
	v, err := s.Version(ctx)
	latest, _ := s.LatestVersion()
	if err != nil || v != latest || v < 1 {
		t.Fatalf("version %d latest %d err %v", v, latest, err)
	}
}

// The scheduler's poll: jobs of one client that are not completed, in
// pages, without reading other clients' jobs.
func TestPollQuery(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	sc := Scope{ProjectID: "p1", UserID: "u1"}
	for _, c := range []string{"p1_a", "p1_b"} {
		if _, err := s.RegisterClient(ctx, sc, apiv2.ClientInfo{ClientID: c, Hostname: c}); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(client, status string) string {
		id, err := s.CreateJob(ctx, sc, apiv2.Job{ClientID: client, JobSchedule: apiv2.JobSchedule{Status: status},
			JobActions: []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": "backup", "status": "x"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	want := []string{mk("p1_a", ""), mk("p1_a", "scheduled")}
	mk("p1_a", "completed")
	mk("p1_b", "")
	want = append(want, mk("p1_a", "running"))
	f := ParseSearch(apiv2.Search{Match: []map[string]any{{"client_id": "p1_a"}}, MatchNot: []map[string]any{{"status": "completed"}}})
	var got []string
	for off := 0; ; off += 2 {
		jobs, err := s.ListJobs(ctx, "p1", f, Page{Limit: 2, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			got = append(got, j.JobID)
		}
		if len(jobs) < 2 {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("poll returned %v, want %v", got, want)
	}
}

// A match_not on status or event is answered from the jobs columns
// (jobStatusColumns); it must select exactly what the terms select, for
// every kind of value, including a freezer_action key of the same name.
func TestStatusColumnsSelectAsTheTerms(t *testing.T) {
	ctx := context.Background()
	sc := Scope{ProjectID: "p1", UserID: "u1"}
	s := openWithClient(t, sc, "c1")
	for _, st := range []string{"", "completed", "scheduled", "running", "stop"} {
		for _, ev := range []string{"", "start", "stop"} {
			if _, err := s.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", JobSchedule: apiv2.JobSchedule{Status: st, Event: ev},
				JobActions: []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": "backup", "status": "completed", "event": "stop"}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids := func(cols map[string]string, f Filter) string {
		w, args := f.where("job_terms", cols)
		jobs, err := s.readJobs(ctx, " AND d.project_id = ?"+w+" ORDER BY d.seq LIMIT 100 OFFSET 0", append([]any{"p1"}, args...))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, j := range jobs {
			var js apiv2.JobSchedule
			if err := json.Unmarshal([]byte(j.Schedule), &js); err != nil {
				t.Fatal(err)
			}
			out = append(out, js.Status+"/"+js.Event)
		}
		return strings.Join(out, ",")
	}
	for _, body := range []string{
		`{"match_not":[{"status":"completed"}]}`,
		`{"match_not":[{"status":""}]}`,
		`{"match_not":[{"event":"stop"},{"status":"running"}]}`,
		`{"match":[{"client_id":"c1"}],"match_not":[{"status":"completed"}]}`,
		`{"match_not":[{"status":1}]}`,
		`{"match_not":[{"status":null}]}`,
		`{"match_not":[{"event":["stop"]}]}`,
	} {
		var search apiv2.Search
		if err := json.Unmarshal([]byte(body), &search); err != nil {
			t.Fatal(err)
		}
		f := ParseSearch(search)
		byTerms, byColumns := ids(nil, f), ids(jobStatusColumns, f)
		if byTerms != byColumns {
			t.Errorf("%s: terms select %s, columns %s", body, byTerms, byColumns)
		}
		if body == `{"match_not":[{"status":"completed"}]}` && (strings.Contains(byColumns, "completed/") || strings.Count(byColumns, ",") != 11) {
			t.Errorf("%s: %s", body, byColumns)
		}
	}
}
