package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/freezer_api/store"
)

// benchJobServer is a server as freezer-api runs it (the job cache of
// cacheBytes, 0 for off, hits not checked) over a SQLite project of 50
// jobs of client p1_h1, and the id of one of them.
func benchJobServer(b *testing.B, cacheBytes int) (*server.Server, string) {
	ctx := context.Background()
	st, err := store.Open(ctx, testDatabaseURL(b), store.Options{MaxOpenConns: 8})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	pol, err := auth.NewPolicy(nil)
	if err != nil {
		b.Fatal(err)
	}
	h := server.New(server.Config{Store: jobcache.New(st, jobcache.Options{Bytes: cacheBytes}), Policy: pol,
		Auth: auth.NoAuth{ProjectID: "p1", UserID: "u1", Roles: []string{"member"}, TrustHeaders: true}})
	return h, benchJobs(b, h)
}

// benchJobs registers client p1_h1 and creates 50 jobs with one action
// each through h, and returns the id of the last.
func benchJobs(b *testing.B, h *server.Server) string {
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-Project-Id", "p1")
		req.Header.Set("X-User-Id", "u1")
		req.Header.Set("X-Roles", "member")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 201 {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return rec
	}
	do("POST", "/v2/p1/clients", `{"client_id":"p1_h1","hostname":"h1","supported_storages":["swift","local"]}`)
	var id string
	for i := 0; i < 50; i++ {
		rec := do("POST", "/v2/p1/jobs", jobBody)
		var created struct {
			JobID string `json:"job_id"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
			b.Fatal(err)
		}
		id = created.JobID
	}
	return id
}

// BenchmarkJobRead measures the server's own cost (in process, on
// SQLite) of the job reads a scheduler makes: a list page, a get and its
// poll (a page of its client's jobs that are not completed), with the job
// cache at freezer-api's default size (warm) and off. `make bench`
// measures whole processes on MariaDB.
func BenchmarkJobRead(b *testing.B) {
	for _, cache := range []struct {
		name  string
		bytes int
	}{{"cache", 32 << 20}, {"nocache", 0}} {
		b.Run(cache.name, func(b *testing.B) { benchJobRead(b, cache.bytes) })
	}
}

func benchJobRead(b *testing.B, cacheBytes int) {
	h, id := benchJobServer(b, cacheBytes)
	const poll = `{"match":[{"client_id":"p1_h1"}],"match_not":[{"status":"completed"}]}`
	for _, bm := range []struct{ name, path, body string }{
		{"list", "/v2/p1/jobs?limit=10", ""},
		{"get", "/v2/p1/jobs/" + id, ""},
		{"poll", "/v2/p1/jobs?limit=10&offset=0", poll},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("GET", bm.path, strings.NewReader(bm.body))
				req.Header.Set("X-Project-Id", "p1")
				req.Header.Set("X-User-Id", "u1")
				req.Header.Set("X-Roles", "member")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code, rec.Body)
				}
			}
		})
	}
}
