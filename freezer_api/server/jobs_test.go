package server_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

const jobBody = `{"client_id":"p1_h1","description":"nightly",
 "job_schedule":{"schedule_interval":"5 minutes","schedule_start_date":"2026-01-01T00:00:00","status":"","event":""},
 "job_actions":[{"freezer_action":{"action":"backup","mode":"fs","path_to_backup":"/etc","backup_name":"etc","container":"c1","storage":"swift"},"max_retries":3}]}`

func withClient(t *testing.T) *env {
	e := newEnv(t)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p1_h1","hostname":"h1","supported_storages":["swift","local"]}`, 201, "")
	return e
}

func countActions(e *env) int {
	return len(e.expect(memberP1, "GET", "/v2/p1/actions?limit=1000", nil, 200, "").list("actions"))
}

func TestJobCreateGetList(t *testing.T) {
	e := withClient(t)
	r := e.expect(memberP1, "POST", "/v2/p1/jobs/", jobBody, 201, "")
	id := r.str("job_id")
	if len(id) != 32 {
		t.Fatalf("job id %q", id)
	}
	r = e.expect(memberP1, "GET", "/v2/p1/jobs/"+id, nil, 200, `{"job_id":"`+id+`","project_id":"p1","user_id":"u1","client_id":"p1_h1","description":"nightly","session_id":"","session_tag":0,
		"job_schedule":{"schedule_interval":"5 minutes","schedule_start_date":"2026-01-01T00:00:00","time_started":-1,"time_ended":-1,"status":"","event":""},
		"job_actions":[{"project_id":"p1","user_id":"u1","max_retries":3,"freezer_action":{"action":"backup","mode":"fs","storage":"swift"}}]}`)
	js := r.body.(map[string]any)["job_schedule"].(map[string]any)
	if tc, _ := js["time_created"].(json.Number).Int64(); tc < 1700000000 {
		t.Fatalf("time_created %v", js["time_created"])
	}
	// Answered as sent: the empty status and event it had, no result.
	if _, has := js["result"]; has {
		t.Fatalf("job_schedule gained a result key: %v", js)
	}
	e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 200, `{"jobs":[{"job_id":"`+id+`"}]}`)
	if _, has := r.body.(map[string]any)["user_credentials"]; has {
		t.Fatal("user_credentials present without a trust")
	}
	// Null job_actions / job_schedule (a Go client's nil fields) mean empty.
	e.expect(memberP1, "POST", "/v2/p1/jobs", `{"client_id":"p1_h1","job_actions":null,"job_schedule":null}`, 201, "")
	// A client-chosen id; a duplicate is 409.
	e.expect(memberP1, "POST", "/v2/p1/jobs", strings.Replace(jobBody, `"client_id"`, `"job_id":"my-job","client_id"`, 1), 201, `{"job_id":"my-job"}`)
	e.expect(memberP1, "POST", "/v2/p1/jobs", strings.Replace(jobBody, `"client_id"`, `"job_id":"my-job","client_id"`, 1), 409, `{"title":"Document already existing"}`)
	// The web UI's clone: a GET document minus job_id posted back.
	doc := r.body.(map[string]any)
	delete(doc, "job_id")
	doc["user_credentials"] = map[string]any{"trust_id": "t", "trustor_user_id": "u"}
	doc["project_id"] = "p2"
	r2 := e.expect(memberP1, "POST", "/v2/p1/jobs", doc, 201, "")
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+r2.str("job_id"), nil, 200, `{"project_id":"p1","job_actions":[{"action_id":"`+r.list("job_actions")[0].(map[string]any)["action_id"].(string)+`"}]}`)
	if n := countActions(e); n != 2 {
		t.Fatalf("clone created a new action: %d actions", n)
	}
}

// TestJobActionsAsStored: a job's actions are answered as they were sent,
// as upstream answers them: no max_retries/max_retries_interval/mandatory
// defaults (a scheduler reading 5 retries ran a failing action 6 times;
// upstream's scheduler defaults are no retry), no null option keys.
func TestJobActionsAsStored(t *testing.T) {
	e := withClient(t)
	id := e.expect(memberP1, "POST", "/v2/p1/jobs", `{"client_id":"p1_h1","job_actions":[{"freezer_action":{"action":"exec","command":"exit 1"}}]}`, 201, "").str("job_id")
	for _, path := range []string{"/v2/p1/jobs/" + id, "/v2/p1/jobs"} {
		r := e.expect(memberP1, "GET", path, nil, 200, "")
		doc := r.body.(map[string]any)
		if jobs, ok := doc["jobs"].([]any); ok {
			doc = jobs[0].(map[string]any)
		}
		a := doc["job_actions"].([]any)[0].(map[string]any)
		delete(a, "action_id")
		got, _ := json.Marshal(a)
		if want := `{"freezer_action":{"action":"exec","command":"exit 1"},"project_id":"p1","user_id":"u1"}`; string(got) != want {
			t.Fatalf("GET %s: action %s, want %s", path, got, want)
		}
	}
}

func TestJobValidationAndNoOrphans(t *testing.T) {
	e := withClient(t)
	before := countActions(e)
	for _, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{strings.Replace(jobBody, "p1_h1", "p1_nope", 1), 422, `{"title":"Unprocessable Entity","description":"Client not found with ID p1_nope"}`},
		{strings.Replace(jobBody, `"swift"`, `"tape"`, 1), 422, `{"description":"Client p1_h1 does not support storage: tape"}`},
		{strings.Replace(jobBody, `"action":"backup"`, `"action":"bogus"`, 1), 422, `{"description":"Client p1_h1 does not support action: bogus"}`},
		{strings.Replace(jobBody, `"status":""`, `"foo":1,"status":""`, 1), 400, `{"description":"Additional properties are not allowed ('foo' was unexpected)"}`},
		{strings.Replace(jobBody, `"status":""`, `"status":"sleeping"`, 1), 400, `{"description":"'sleeping' is not one of ['', 'completed', 'stop', 'scheduled', 'running', 'aborting', 'removed']"}`},
		{strings.Replace(jobBody, `"5 minutes"`, `"often"`, 1), 400, ""},
		{strings.Replace(jobBody, `"2026-01-01T00:00:00"`, `"tomorrow"`, 1), 400, ""},
		{strings.Replace(jobBody, `"description"`, `"bogus_key":1,"description"`, 1), 400, `{"description":"Additional properties are not allowed ('bogus_key' was unexpected)"}`},
		{strings.Replace(jobBody, `"client_id":"p1_h1",`, ``, 1), 400, `{"description":"'client_id' is a required property"}`},
		{`{"client_id":"p1_h1","job_schedule":{}}`, 400, `{"description":"'job_actions' is a required property"}`},
		{`{"client_id":"p1_h1","job_actions":[{"max_retries":1}]}`, 400, `{"description":"'freezer_action' is a required property"}`},
		{`{"client_id":"p1_h1","job_actions":[{"freezer_action":{"mode":"fs"}}]}`, 400, `{"description":"'action' is a required property"}`},
		{`{"client_id":"p1_h1","job_actions":[{"action_id":"missing"}]}`, 422, `{"description":"Action not found with ID missing"}`},
		{`{"client_id":"p1_h1","job_actions":{}}`, 400, ""},
		{`{"client_id":"p1_h1","job_actions":[],"session_tag":"1"}`, 400, `{"description":"'1' is not of type 'integer'"}`},
		{`{"client_id":"p1_h1","job_actions":[],"action_defaults":[]}`, 400, ""},
		{`{"job_id":"bad id","client_id":"p1_h1","job_actions":[]}`, 400, ""},
	} {
		e.expect(memberP1, "POST", "/v2/p1/jobs", tc.body, tc.status, tc.want)
	}
	if after := countActions(e); after != before {
		t.Fatalf("rejected jobs left %d orphan actions", after-before)
	}
}

func TestJobActionDefaultsAndReferences(t *testing.T) {
	e := withClient(t)
	r := e.expect(memberP1, "POST", "/v2/p1/actions", `{"action_id":"shared","freezer_action":{"action":"backup","storage":"local"}}`, 201, "")
	_ = r
	r = e.expect(memberP1, "POST", "/v2/p1/jobs", `{"client_id":"p1_h1","action_defaults":{"storage":"swift","container":"dflt"},
		"job_actions":[{"action_id":"shared"},{"freezer_action":{"action":"restore"}},{"freezer_action":{"action":"backup","container":"mine"}}]}`, 201, "")
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+r.str("job_id"), nil, 200, `{"job_actions":[
		{"action_id":"shared","freezer_action":{"storage":"local"}},
		{"freezer_action":{"action":"restore","storage":"swift","container":"dflt"}},
		{"freezer_action":{"action":"backup","storage":"swift","container":"mine"}}]}`)
	// Changing a referenced action's content makes a new action.
	r = e.expect(memberP1, "POST", "/v2/p1/jobs", `{"client_id":"p1_h1","job_actions":[{"action_id":"shared","freezer_action":{"action":"backup","storage":"swift"}}]}`, 201, "")
	j := e.expect(memberP1, "GET", "/v2/p1/jobs/"+r.str("job_id"), nil, 200, "")
	if aid := j.list("job_actions")[0].(map[string]any)["action_id"]; aid == "shared" {
		t.Fatal("changed action reused the old id")
	}
	e.expect(memberP1, "GET", "/v2/p1/actions/shared", nil, 200, `{"freezer_action":{"storage":"local"}}`)
	// Updating an action shows in the job, and in job search.
	e.expect(memberP1, "PATCH", "/v2/p1/actions/shared", `{"freezer_action":{"action":"backup","storage":"local","backup_name":"renamed"}}`, 200, "")
	e.expect(memberP1, "GET", "/v2/p1/jobs", `{"match":[{"backup_name":"renamed"}]}`, 200, `{"jobs":[{"job_actions":[{"action_id":"shared","freezer_action":{"backup_name":"renamed"}},{},{}]}]}`)
	// Deleting it removes it from the job.
	e.expect(memberP1, "DELETE", "/v2/p1/actions/shared", nil, 204, "")
	first := e.expect(memberP1, "GET", "/v2/p1/jobs?limit=1", nil, 200, "").list("jobs")[0].(map[string]any)
	if n := len(first["job_actions"].([]any)); n != 2 {
		t.Fatalf("job still has %d actions", n)
	}
	e.expect(memberP1, "GET", "/v2/p1/jobs", `{"match":[{"backup_name":"renamed"}]}`, 200, `{"jobs":[]}`)
}

func TestJobPatchReplaceDelete(t *testing.T) {
	e := withClient(t)
	id := e.expect(memberP1, "POST", "/v2/p1/jobs", jobBody, 201, "").str("job_id")
	// project_id and user_id in a patch never move the job (upstream bug).
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"description":"changed","project_id":"p2","user_id":"evil"}`, 200, `{"job_id":"`+id+`","version":2}`)
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+id, nil, 200, `{"description":"changed","project_id":"p1","user_id":"u1","job_schedule":{"schedule_interval":"5 minutes","time_started":-1}}`)
	e.expect(memberP2, "GET", "/v2/p2/jobs/"+id, nil, 404, "")
	// The scheduler's patch: the whole schedule plus session fields.
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"job_schedule":{"schedule_interval":"5 minutes","status":"running","event":"","result":"","current_pid":4242,"time_started":1790000000},"session_id":"","session_tag":0}`, 200, `{"version":3}`)
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+id, nil, 200, `{"job_schedule":{"status":"running","current_pid":4242,"time_started":1790000000}}`)
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"job_schedule":{"status":"nope"}}`, 400, "")
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"color":"red"}`, 400, `{"description":"Additional properties are not allowed ('color' was unexpected)"}`)
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"client_id":"p1_other"}`, 422, "")
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"job_actions":[{"freezer_action":{"action":"backup","storage":"s3"}}]}`, 422, `{"description":"Client p1_h1 does not support storage: s3"}`)
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"job_actions":[{"freezer_action":{"action":"info"}}]}`, 200, "")
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+id, nil, 200, `{"job_actions":[{"freezer_action":{"action":"info"}}]}`)
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/nope", `{"description":"x"}`, 404, `{"title":"Not Found"}`)
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"session_name":"ignored","_version":3}`, 200, "")
	// Create-or-replace on the item URL.
	e.expect(memberP1, "POST", "/v2/p1/jobs/"+id, strings.Replace(jobBody, "nightly", "replaced", 1), 201, `{"job_id":"`+id+`"}`)
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+id, nil, 200, `{"description":"replaced","job_schedule":{"status":""}}`)
	e.expect(memberP1, "POST", "/v2/p1/jobs/chosen-id", jobBody, 201, `{"job_id":"chosen-id","version":1}`)
	e.expect(memberP1, "GET", "/v2/p1/jobs/chosen-id", nil, 200, `{"description":"nightly"}`)
	e.expect(readerP1, "POST", "/v2/p1/jobs/chosen-id", jobBody, 403, "")
	e.expect(memberP1, "DELETE", "/v2/p1/jobs/"+id, nil, 204, "")
	e.expect(memberP1, "DELETE", "/v2/p1/jobs/"+id, nil, 204, "")
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+id, nil, 404, "")
}

func TestJobEvents(t *testing.T) {
	e := withClient(t)
	id := e.expect(memberP1, "POST", "/v2/p1/jobs", jobBody, 201, "").str("job_id")
	path := "/v2/p1/jobs/" + id + "/event"
	e.expect(memberP1, "PATCH", "/v2/p1/jobs/"+id, `{"job_schedule":{"status":"completed","result":"fail","event":"stop"}}`, 200, "")
	e.expect(memberP1, "POST", path, `{"start": null}`, 202, `{"result":"success"}`)
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+id, nil, 200, `{"job_schedule":{"event":"start","status":"","result":""}}`)
	e.expect(memberP1, "POST", path, `{"start": null}`, 202, `{"result":"start already requested"}`)
	e.expect(memberP1, "POST", path, `{"stop": null}`, 202, `{"result":"success"}`)
	e.expect(memberP1, "POST", path, `{"stop": null}`, 202, `{"result":"stop already requested"}`)
	e.expect(memberP1, "POST", path, `{"abort": null}`, 202, `{"result":"success"}`)
	e.expect(memberP1, "POST", path, `{"abort": null}`, 202, `{"result":"abort already requested"}`)
	e.expect(memberP1, "POST", path, `{"explode": null}`, 400, `{"description":"Bad Action Method"}`)
	e.expect(memberP1, "POST", path, `{}`, 400, `{"description":"Bad event request format"}`)
	e.expect(memberP1, "POST", path, nil, 400, `{"description":"Bad event request format"}`)
	e.expect(memberP1, "POST", path, `{"start":null,"stop":null}`, 400, `{"description":"Bad event request format"}`)
	e.expect(memberP1, "POST", "/v2/p1/jobs/nope/event", `{"start": null}`, 404, `{"title":"Not Found"}`)
	e.expect(readerP1, "POST", path, `{"start": null}`, 403, "")
}

// TestCentralClientPIDHidden: a member does not see the process id of its
// jobs that run on another project's central client (upstream behaviour);
// admin and service do.
func TestCentralClientPIDHidden(t *testing.T) {
	e := withClient(t)
	e.expect(svcP9, "POST", "/v2/p9/clients", `{"client_id":"central-node","is_central":true}`, 201, "")
	own := e.expect(memberP1, "POST", "/v2/p1/jobs", strings.Replace(jobBody, `"status":""`, `"status":"running","current_pid":11`, 1), 201, "").str("job_id")
	cen := e.expect(memberP1, "POST", "/v2/p1/jobs", strings.Replace(strings.Replace(jobBody, "p1_h1", "central-node", 1), `"status":""`, `"status":"running","current_pid":22`, 1), 201, "").str("job_id")
	e.expect(memberP1, "GET", "/v2/p1/jobs/"+own, nil, 200, `{"job_schedule":{"current_pid":11}}`)
	r := e.expect(memberP1, "GET", "/v2/p1/jobs/"+cen, nil, 200, `{"client_id":"central-node"}`)
	if strings.Contains(string(r.raw), "current_pid") {
		t.Fatalf("member sees the central node's pid: %s", r.raw)
	}
	r = e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 200, "")
	if strings.Count(string(r.raw), "current_pid") != 1 {
		t.Fatalf("list: %s", r.raw)
	}
	e.expect(adminP2, "GET", "/v2/p1/jobs/"+cen, nil, 200, `{"job_schedule":{"current_pid":22}}`)
}

// The scheduler's poll through the API: jobs of one client that are not
// completed (or not stopped), in pages. The store answers match_not on
// status and event from the jobs columns; a freezer_action key of the same
// name must not count, on SQLite and on MariaDB.
func TestJobPollSearch(t *testing.T) {
	e := withClient(t)
	e.expect(memberP1, "POST", "/v2/p1/clients", `{"client_id":"p1_h2","hostname":"h2"}`, 201, "")
	want := map[string]string{} // id → status/event
	for i, st := range []string{"", "completed", "scheduled", "running", "completed", "stop", "scheduled"} {
		client, ev := "p1_h1", ""
		if i%3 == 2 {
			ev = "stop"
		}
		if i == 6 {
			client = "p1_h2"
		}
		body := strings.NewReplacer(`"p1_h1"`, `"`+client+`"`, `"status":"","event":""`, `"status":"`+st+`","event":"`+ev+`"`,
			`"action":"backup"`, `"action":"backup","status":"completed","event":"stop"`).Replace(jobBody)
		want[e.expect(memberP1, "POST", "/v2/p1/jobs", body, 201, "").str("job_id")] = client + "/" + st + "/" + ev
	}
	poll := func(search string) []string {
		var got []string
		for off := 0; ; off += 2 {
			r := e.expect(memberP1, "GET", "/v2/p1/jobs?limit=2&offset="+strconv.Itoa(off), search, 200, "")
			for _, j := range r.list("jobs") {
				got = append(got, want[j.(map[string]any)["job_id"].(string)])
			}
			if len(r.list("jobs")) < 2 {
				return got
			}
		}
	}
	for search, exp := range map[string]string{
		`{"match":[{"client_id":"p1_h1"}],"match_not":[{"status":"completed"}]}`:     "p1_h1//,p1_h1/scheduled/stop,p1_h1/running/,p1_h1/stop/stop",
		`{"match":[{"client_id":"p1_h1"}],"match_not":[{"event":"stop"}]}`:           "p1_h1//,p1_h1/completed/,p1_h1/running/,p1_h1/completed/",
		`{"match_not":[{"status":"completed"},{"status":"scheduled"}]}`:              "p1_h1//,p1_h1/running/,p1_h1/stop/stop",
		`{"match":[{"client_id":"p1_h2"}],"match_not":[{"status":1}]}`:               "p1_h2/scheduled/",
		`{"match":[{"client_id":"p1_h1"}],"match_not":[{"status":""},{"event":""}]}`: "p1_h1/scheduled/stop,p1_h1/stop/stop",
	} {
		if got := strings.Join(poll(search), ","); got != exp {
			t.Errorf("%s:\n got %s\nwant %s", search, got, exp)
		}
	}
}
