package server_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentWrites: concurrent registrations of one client all
// succeed and leave one row; concurrent session ends of different jobs
// lose no update (the session row is locked while it changes).
func TestConcurrentWrites(t *testing.T) {
	e := withClient(t)
	const n = 12
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = e.call(memberP1, "POST", "/v2/p1/clients", fmt.Sprintf(`{"client_id":"p1_race","description":"d%d"}`, i)).status
		}(i)
	}
	wg.Wait()
	for i, c := range codes {
		if c != 201 {
			t.Fatalf("registration %d: status %d", i, c)
		}
	}
	r := e.expect(memberP1, "GET", "/v2/p1/clients?limit=100", `{"match":[{"client_id":"p1_race"}]}`, 200, "")
	if len(r.list("clients")) != 1 {
		t.Fatalf("%d rows for one client", len(r.list("clients")))
	}

	sid := e.expect(memberP1, "POST", "/v2/p1/sessions", `{"schedule":{}}`, 201, "").str("session_id")
	var jobs []string
	for i := 0; i < n; i++ {
		j := e.expect(memberP1, "POST", "/v2/p1/jobs", jobBody, 201, "").str("job_id")
		e.expect(memberP1, "PUT", "/v2/p1/sessions/"+sid+"/jobs/"+j, nil, 204, "")
		jobs = append(jobs, j)
	}
	for i, j := range jobs {
		wg.Add(1)
		go func(i int, j string) {
			defer wg.Done()
			codes[i] = e.call(memberP1, "POST", "/v2/p1/sessions/"+sid+"/action", `{"end":{"job_id":"`+j+`","current_tag":0,"result":"success"}}`).status
		}(i, j)
	}
	wg.Wait()
	for i, c := range codes {
		if c != 202 {
			t.Fatalf("end %d: status %d", i, c)
		}
	}
	s := e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"status":"completed","result":"success"}`)
	for j, st := range s.body.(map[string]any)["jobs"].(map[string]any) {
		if st.(map[string]any)["status"] != "completed" {
			t.Errorf("job %s lost its end: %v", j, st)
		}
	}
	if !strings.Contains(string(s.raw), jobs[n-1]) {
		t.Fatal("session lost a job")
	}
}
