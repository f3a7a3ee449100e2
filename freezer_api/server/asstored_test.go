package server_test

import (
	"strings"
	"testing"
)

// TestScheduleAnsweredAsStored: a job's schedule is answered with the keys
// it was sent with, as upstream answers it (no empty event, status or
// result added), while searches on those keys answer as when every
// schedule had them: an absent key searches as "". The job's action has
// options of the same names, which must not stand in for the absent keys.
// On MariaDB too (the integration build's testDatabaseURL).
func TestScheduleAnsweredAsStored(t *testing.T) {
	e := withClient(t)
	id := e.expect(memberP1, "POST", "/v2/p1/jobs", `{"client_id":"p1_h1","job_schedule":{"schedule_interval":"1 days"},
		"job_actions":[{"freezer_action":{"action":"exec","command":"true","status":"completed","event":"stop","result":"fail"}}]}`, 201, "").str("job_id")
	done := e.expect(memberP1, "POST", "/v2/p1/jobs", `{"client_id":"p1_h1","job_schedule":{"status":"completed","event":""},
		"job_actions":[{"freezer_action":{"action":"exec","command":"true"}}]}`, 201, "").str("job_id")
	noKeys := func(path string, doc map[string]any, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if v, has := doc[k]; has {
				t.Fatalf("%s has %s = %v: %v", path, k, v, doc)
			}
		}
	}
	sched := func(id string) map[string]any {
		t.Helper()
		r := e.expect(memberP1, "GET", "/v2/p1/jobs/"+id, nil, 200, "")
		return r.body.(map[string]any)["job_schedule"].(map[string]any)
	}
	noKeys("job_schedule", sched(id), "event", "status", "result")
	// Sent empty, answered empty; not sent, not answered.
	if js := sched(done); js["status"] != "completed" || js["event"] != "" {
		t.Fatalf("job_schedule %v", js)
	} else {
		noKeys("job_schedule", js, "result")
	}
	for _, j := range e.expect(memberP1, "GET", "/v2/p1/jobs?limit=100", nil, 200, "").list("jobs") {
		if d := j.(map[string]any); d["job_id"] == id {
			noKeys("listed job_schedule", d["job_schedule"].(map[string]any), "event", "status", "result")
		}
	}

	search := func(body string) string {
		t.Helper()
		return strings.Join(e.expect(memberP1, "GET", "/v2/p1/jobs?limit=100", body, 200, "").ids("jobs", "job_id"), ",")
	}
	for body, want := range map[string]string{
		// The scheduler's poll and freezerclient's job-list filters.
		`{"match":[{"client_id":"p1_h1"}],"match_not":[{"status":"completed"}]}`: id,
		`{"match_not":[{"status":"completed"}]}`:                                 id,
		`{"match":[{"status":""}]}`:                                              id,
		`{"match":[{"status":"completed"}]}`:                                     done,
		`{"match":[{"event":""}]}`:                                               id + "," + done,
		`{"match_not":[{"event":""}]}`:                                           "",
		`{"match":[{"event":"stop"}]}`:                                           "",
		`{"match":[{"result":""}]}`:                                              id + "," + done,
		`{"match":[{"result":"fail"}]}`:                                          "",
	} {
		if got := search(body); got != want {
			t.Errorf("%s: got [%s], want [%s]", body, got, want)
		}
	}

	// A start clears status and result, as upstream: they are answered
	// empty then.
	e.expect(memberP1, "POST", "/v2/p1/jobs/"+id+"/event", `{"start":null}`, 202, `{"result":"success"}`)
	if js := sched(id); js["event"] != "start" || js["status"] != "" || js["result"] != "" {
		t.Fatalf("after start: %v", js)
	}
	// The scheduler's PATCH replaces the schedule: what it sends is answered.
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"job_schedule":{"status":"scheduled","schedule_interval":"1 days"}}`, 200, "")
	js := sched(id)
	if js["status"] != "scheduled" {
		t.Fatalf("after patch: %v", js)
	}
	noKeys("patched job_schedule", js, "event", "result")
	if got := search(`{"match":[{"event":""},{"status":"scheduled"}]}`); got != id {
		t.Fatalf("patched job not found by event \"\" and status scheduled: [%s]", got)
	}
}

// TestSessionAnsweredAsStored: a session's result is null until set and
// its schedule keeps the keys it was sent with, as upstream answers; jobs
// is always an object (the Horizon panel reads it unguarded). Searches on
// result answer as when it was always "".
func TestSessionAnsweredAsStored(t *testing.T) {
	e := withClient(t)
	sid := e.expect(memberP1, "POST", "/v2/p1/sessions", `{"description":"s","schedule":{"schedule_interval":"1 days"}}`, 201, "").str("session_id")
	r := e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"status":"active","jobs":{}}`)
	doc := r.body.(map[string]any)
	if res, has := doc["result"]; !has || res != nil {
		t.Fatalf("result: %v (present %v), want null", res, has)
	}
	for _, k := range []string{"event", "status", "result"} {
		if v, has := doc["schedule"].(map[string]any)[k]; has {
			t.Fatalf("schedule gained %s = %v", k, v)
		}
	}
	ids := func(body string) string {
		t.Helper()
		return strings.Join(e.expect(memberP1, "GET", "/v2/p1/sessions?limit=100", body, 200, "").ids("sessions", "session_id"), ",")
	}
	if got := ids(`{"match":[{"result":""},{"event":""}]}`); got != sid {
		t.Fatalf("result \"\" and event \"\": [%s]", got)
	}
	if got := ids(`{"match_not":[{"result":""}]}`); got != "" {
		t.Fatalf("match_not result \"\": [%s]", got)
	}
	// The state machine sets it.
	j := e.expect(memberP1, "POST", "/v2/p1/jobs", jobBody, 201, "").str("job_id")
	e.expect(memberP1, "PUT", "/v2/p1/sessions/"+sid+"/jobs/"+j, nil, 204, "")
	e.expect(memberP1, "POST", "/v2/p1/sessions/"+sid+"/action", `{"start":{"job_id":"`+j+`","current_tag":0}}`, 202, `{"result":"success"}`)
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"status":"running","result":""}`)
	e.expect(memberP1, "POST", "/v2/p1/sessions/"+sid+"/action", `{"end":{"job_id":"`+j+`","current_tag":1,"result":"success"}}`, 202, "")
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"status":"completed","result":"success"}`)
	// The job added keeps its own state keys (jobBody sends status and
	// event empty, no result) under the session's schedule.
	js := e.expect(memberP1, "GET", "/v2/p1/jobs/"+j, nil, 200, `{"job_schedule":{"schedule_interval":"1 days","status":"","event":""}}`).body.(map[string]any)["job_schedule"].(map[string]any)
	if v, has := js["result"]; has {
		t.Fatalf("job in session gained result %v", v)
	}
}
