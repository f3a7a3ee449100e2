package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkJobList measures the server's own cost of a 10-job page (on
// SQLite, in process); `make bench` measures whole processes on MariaDB.
func BenchmarkJobList(b *testing.B) {
	e := newEnv(b)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p1_h1"}`, 201, "")
	for i := 0; i < 50; i++ {
		e.expect(memberP1, "POST", "/v2/p1/jobs", strings.Replace(jobBody, "p1_h1", "p1_h1", 1), 201, "")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", "/v2/p1/jobs?limit=10", nil)
		req.Header.Set("X-Project-Id", "p1")
		req.Header.Set("X-Roles", "member")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
