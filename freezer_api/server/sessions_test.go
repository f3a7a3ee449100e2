package server_test

import (
	"testing"
)

func TestSessions(t *testing.T) {
	e := withClient(t)
	e.expect(memberP1, "POST", "/v2/p1/sessions", `{"description":"s"}`, 400, `{"description":"'schedule' is a required property"}`)
	e.expect(memberP1, "POST", "/v2/p1/sessions", `{"schedule":{"bogus":1}}`, 400, `{"description":"Additional properties are not allowed ('bogus' was unexpected)"}`)
	// The tempest plugin's body: jobs as a list and server-owned keys.
	sid := e.expect(memberP1, "POST", "/v2/p1/sessions/", `{"session_id":"ignored","description":"s1","schedule":{"schedule_interval":"1 days"},
		"jobs":[{"x":1}],"status":"x","result":"y","time_started":5,"project_id":"p2","user_id":"evil","session_tag":0}`, 201, "").str("session_id")
	if len(sid) != 32 {
		t.Fatalf("session id %q", sid)
	}
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"session_id":"`+sid+`","project_id":"p1","user_id":"u1","description":"s1","session_tag":0,"hold_off":30,
		"status":"active","time_start":-1,"time_end":-1,"time_ended":-1,"time_started":5,"schedule":{"schedule_interval":"1 days"},"jobs":{}}`)
	e.expect(memberP1, "GET", "/v2/p1/sessions", nil, 200, `{"sessions":[{"session_id":"`+sid+`"}]}`)

	j1 := e.expect(memberP1, "POST", "/v2/p1/jobs", jobBody, 201, "").str("job_id")
	j2 := e.expect(memberP1, "POST", "/v2/p1/jobs", jobBody, 201, "").str("job_id")
	e.expect(memberP1, "PUT", "/v2/p1/sessions/"+sid+"/jobs/"+j1, nil, 204, "")
	e.expect(memberP1, "PUT", "/v2/p1/sessions/"+sid+"/jobs/"+j2, nil, 204, "")
	e.expect(memberP1, "PUT", "/v2/p1/sessions/"+sid+"/jobs/nope", nil, 404, `{"description":"Job not found with ID nope"}`)
	e.expect(memberP1, "PUT", "/v2/p1/sessions/nope/jobs/"+j1, nil, 404, "")
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"jobs":{"`+j1+`":{"client_id":"p1_h1","status":"","result":""}}}`)
	// The job takes the session's id, tag and schedule, keeping its own state.
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+j1, nil, 200, `{"session_id":"`+sid+`","session_tag":0,"job_schedule":{"schedule_interval":"1 days","time_started":-1}}`)

	act := "/v2/p1/sessions/" + sid + "/action"
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"`+j1+`","current_tag":1}}`, 400, `{"description":"requested tag value too high. Session Tag: 0 Job Tag: 1"}`)
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"`+j1+`","current_tag":"0"}}`, 202, `{"result":"success","session_tag":1}`)
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"status":"running","session_tag":1,"jobs":{"`+j1+`":{"status":"running"}}}`)
	// Inside the hold-off window: a late job joins, a same-tag one waits.
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"`+j2+`","current_tag":0}}`, 202, `{"result":"success","session_tag":1}`)
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"`+j2+`","current_tag":1}}`, 202, `{"result":"hold-off","session_tag":1}`)
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"not-in-session","current_tag":0}}`, 400, `{"description":"job_id not found in session"}`)
	e.expect(memberP1, "POST", act, `{"end":{"job_id":"`+j1+`","current_tag":1,"result":"success"}}`, 202, `{"result":"success","session_tag":1}`)
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"status":"running","jobs":{"`+j1+`":{"status":"completed","result":"success"}}}`)
	e.expect(memberP1, "POST", act, `{"end":{"job_id":"`+j2+`","current_tag":1,"result":"fail"}}`, 202, `{"result":"success"}`)
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"status":"completed","result":"fail"}`)
	e.expect(memberP1, "POST", act, `{"start":{"current_tag":0}}`, 400, `{"description":"'job_id' is a required property"}`)
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"x","current_tag":"abc"}}`, 400, "")
	e.expect(memberP1, "POST", act, `{"end":{"job_id":"`+j1+`"}}`, 400, `{"description":"'result' is a required property"}`)
	e.expect(memberP1, "POST", act, `{"pause":{}}`, 400, `{"description":"Bad Action Method"}`)
	e.expect(memberP1, "POST", act, `{"start":"now"}`, 400, "")
	e.expect(memberP1, "POST", "/v2/p1/sessions/nope/action", `{"start":{"job_id":"x","current_tag":0}}`, 404, "")

	// PATCH: jobs merged, schedule replaced, unknown keys rejected, owner fixed.
	e.expect(memberP1, "PATCH", "/v2/p1/sessions/"+sid, `{"description":"s2","hold_off":5,"project_id":"p2","jobs":{"extra":{"client_id":"c","status":"","result":"","time_started":"","time_ended":-1}}}`, 200, `{"session_id":"`+sid+`"}`)
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, `{"description":"s2","hold_off":5,"project_id":"p1","jobs":{"extra":{"client_id":"c"},"`+j1+`":{"status":"completed"}}}`)
	e.expect(memberP1, "PATCH", "/v2/p1/sessions/"+sid, `{"colour":"red"}`, 400, `{"description":"Additional properties are not allowed ('colour' was unexpected)"}`)
	e.expect(memberP1, "PATCH", "/v2/p1/sessions/"+sid, `{"hold_off":"x"}`, 400, "")
	e.expect(memberP1, "PATCH", "/v2/p1/sessions/nope", `{"description":"x"}`, 404, "")

	// Remove job: idempotent, the job is unlinked and stopped.
	e.expect(memberP1, "DELETE", "/v2/p1/sessions/"+sid+"/jobs/"+j1, nil, 204, "")
	e.expect(memberP1, "DELETE", "/v2/p1/sessions/"+sid+"/jobs/"+j1, nil, 204, "")
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+j1, nil, 200, `{"session_id":"","session_tag":0,"job_schedule":{"event":"stop","schedule_interval":"1 days"}}`)
	s := e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 200, "")
	if _, still := s.body.(map[string]any)["jobs"].(map[string]any)[j1]; still {
		t.Fatal("job still in session")
	}
	e.expect(memberP1, "DELETE", "/v2/p1/sessions/nope/jobs/"+j1, nil, 404, "")

	// Create-or-replace by id.
	e.expect(memberP1, "POST", "/v2/p1/sessions/my-session", `{"schedule":{},"description":"mine"}`, 201, `{"session_id":"my-session","version":1}`)
	e.expect(memberP1, "POST", "/v2/p1/sessions/my-session", `{"schedule":{"schedule_interval":"2 hours"},"hold_off":1}`, 201, `{"session_id":"my-session","version":2}`)
	e.expect(memberP1, "GET", "/v2/p1/sessions/my-session", nil, 200, `{"description":"mine","hold_off":1,"schedule":{"schedule_interval":"2 hours"},"jobs":{}}`)
	e.expect(memberP1, "DELETE", "/v2/p1/sessions/"+sid, nil, 204, "")
	e.expect(memberP1, "DELETE", "/v2/p1/sessions/"+sid, nil, 204, "")
	e.expect(memberP1, "GET", "/v2/p1/sessions/"+sid, nil, 404, "")
}

func TestSessionWindowExpires(t *testing.T) {
	e := withClient(t)
	sid := e.expect(memberP1, "POST", "/v2/p1/sessions", `{"schedule":{},"hold_off":-1}`, 201, "").str("session_id")
	j := e.expect(memberP1, "POST", "/v2/p1/jobs", jobBody, 201, "").str("job_id")
	e.expect(memberP1, "PUT", "/v2/p1/sessions/"+sid+"/jobs/"+j, nil, 204, "")
	act := "/v2/p1/sessions/" + sid + "/action"
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"`+j+`","current_tag":0}}`, 202, `{"result":"success","session_tag":1}`)
	// hold_off -1: the window is always over, so a stale tag is out of sync
	// and the current tag starts a new run.
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"`+j+`","current_tag":0}}`, 202, `{"result":"out-of-sync","session_tag":1}`)
	e.expect(memberP1, "POST", act, `{"start":{"job_id":"`+j+`","current_tag":1}}`, 202, `{"result":"success","session_tag":2}`)
}
