package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/freezer_api/store"
)

// newServer starts our freezer-api in-process on a fresh SQLite database,
// without Keystone (every caller is a member of project p1).
func newServer(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "freezer.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pol, err := auth.NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	lg := logrus.New()
	lg.SetOutput(io.Discard)
	srv := httptest.NewServer(server.New(server.Config{Store: jobcache.New(st, jobcache.Options{}), Policy: pol, Logger: logrus.NewEntry(lg),
		Auth: auth.NoAuth{ProjectID: "p1", UserID: "u1", Roles: []string{"member"}}}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newClient(t *testing.T, endpoint string) *client.Client {
	t.Helper()
	c, err := client.NewNoAuth(endpoint, "p1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func backupAction() apiv2.Action {
	return apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "backup", "mode": "fs", "storage": "local",
		"path_to_backup": "/srv", "backup_name": "b1", "container": "/tmp/c"}}
}

func TestEndpointSpellings(t *testing.T) {
	url := newServer(t)
	for _, ep := range []string{url, url + "/", url + "/v2", url + "/v2/p1", url + "/v2/p1/"} {
		c := newClient(t, ep)
		if c.Endpoint() != url {
			t.Errorf("endpoint %s resolved to %s", ep, c.Endpoint())
		}
		if _, err := c.ListJobs(context.Background(), client.ListOptions{}); err != nil {
			t.Errorf("%s: %v", ep, err)
		}
	}
	if _, err := client.NewNoAuth("not a url", "p1", "", nil); err == nil {
		t.Error("bad endpoint accepted")
	}
	if _, err := client.NewNoAuth(url, "", "", nil); err == nil {
		t.Error("missing project accepted")
	}
	// Without Keystone, Authenticate needs the endpoint and the project.
	c, err := client.Authenticate(context.Background(), client.AuthOptions{Endpoint: url, ProjectID: "p1"})
	if err != nil || c.ProjectID() != "p1" {
		t.Fatalf("no-auth Authenticate: %v", err)
	}
	if _, err := client.Authenticate(context.Background(), client.AuthOptions{}); err == nil {
		t.Error("Authenticate without auth URL or endpoint accepted")
	}
}

func TestClientsJobsAndPolling(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, newServer(t))
	info := apiv2.ClientInfo{ClientID: "p1_node1", Hostname: "node1", SupportedActions: []string{"backup", "restore"}}
	for i := 0; i < 2; i++ {
		if already, err := c.RegisterClient(ctx, info); err != nil || already {
			t.Fatalf("register #%d: already=%v err=%v", i, already, err)
		}
	}
	got, err := c.GetClient(ctx, "p1_node1")
	if err != nil || got.Client.Hostname != "node1" {
		t.Fatalf("GetClient: %+v %v", got, err)
	}
	if _, err := c.RegisterClient(ctx, apiv2.ClientInfo{ClientID: "p1_node2", Hostname: "node2"}); err != nil {
		t.Fatal(err)
	}

	// 23 active jobs for node1 (more than two pages of 10), one completed,
	// two for another node.
	for i := 0; i < 23; i++ {
		if _, err := c.CreateJob(ctx, apiv2.Job{ClientID: "p1_node1", JobActions: []apiv2.Action{backupAction()}}); err != nil {
			t.Fatal(err)
		}
	}
	doneID, err := c.CreateJob(ctx, apiv2.Job{ClientID: "p1_node1", JobActions: []apiv2.Action{backupAction()}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.CreateJob(ctx, apiv2.Job{ClientID: "p1_node2", JobActions: []apiv2.Action{backupAction()}}); err != nil {
			t.Fatal(err)
		}
	}
	done, err := c.GetJob(ctx, doneID)
	if err != nil {
		t.Fatal(err)
	}
	js := done.JobSchedule
	js.Status, js.Result, js.TimeStarted, js.TimeEnded, js.CurrentPID = apiv2.StatusCompleted, apiv2.ResultSuccess, 100, 200, 4242
	sid, tag := "", 0
	if err := c.UpdateJob(ctx, doneID, apiv2.JobPatch{JobSchedule: &js, SessionID: &sid, SessionTag: &tag}); err != nil {
		t.Fatal(err)
	}
	after, _ := c.GetJob(ctx, doneID)
	if after.JobSchedule.Status != apiv2.StatusCompleted || after.JobSchedule.CurrentPID != 4242 ||
		after.JobSchedule.TimeCreated != done.JobSchedule.TimeCreated {
		t.Errorf("after PATCH: %+v", after.JobSchedule)
	}

	active, err := c.ActiveJobs(ctx, "p1_node1", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 23 {
		t.Errorf("ActiveJobs returned %d jobs, want 23", len(active))
	}
	for _, j := range active {
		if j.ClientID != "p1_node1" || j.JobID == doneID {
			t.Errorf("unexpected job in the poll: %s %s", j.JobID, j.ClientID)
		}
		if len(j.JobActions) != 1 || j.JobActions[0].FreezerAction.Action() != "backup" {
			t.Errorf("job actions not returned: %+v", j.JobActions)
		}
	}

	// Events.
	id := active[0].JobID
	for _, want := range []string{"success", "abort already requested"} {
		if r, err := c.JobEvent(ctx, id, apiv2.EventAbort); err != nil || r != want {
			t.Errorf("abort event: %q %v, want %q", r, err, want)
		}
	}
	if j, _ := c.GetJob(ctx, id); j.JobSchedule.Event != apiv2.EventAbort {
		t.Errorf("event not stored: %+v", j.JobSchedule)
	}

	// Errors keep the API's description and status.
	_, err = c.GetJob(ctx, "nope")
	if !client.IsNotFound(err) {
		t.Errorf("missing job: %v", err)
	}
	if err := c.DeleteJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetJob(ctx, id); !client.IsNotFound(err) {
		t.Errorf("deleted job: %v", err)
	}
}

func TestBackups(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, newServer(t))
	id, err := c.CreateBackup(ctx, apiv2.BackupMetadata{"container": "c", "hostname": "h", "backup_name": "b",
		"time_stamp": 1795628800, "level": 0, "job_id": "j1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.GetBackup(ctx, id)
	if err != nil || b.BackupMetadata.String("backup_name") != "b" || b.BackupMetadata.TimeStamp() != 1795628800 {
		t.Fatalf("GetBackup: %+v %v", b, err)
	}
	list, err := c.ListBackups(ctx, client.ListOptions{Search: &apiv2.Search{Match: []map[string]any{{"job_id": "j1"}}}})
	if err != nil || len(list) != 1 {
		t.Errorf("ListBackups by job_id: %d %v", len(list), err)
	}
	_, err = c.CreateBackup(ctx, apiv2.BackupMetadata{"container": "c"})
	var se *client.StatusError
	if !client.IsStatus(err, http.StatusBadRequest) || !errorAs(err, &se) || se.Title == "" {
		t.Errorf("invalid backup: %v", err)
	}
	if err := c.DeleteBackup(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func TestSessionProtocol(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, newServer(t))
	if _, err := c.RegisterClient(ctx, apiv2.ClientInfo{ClientID: "p1_n1", Hostname: "n1"}); err != nil {
		t.Fatal(err)
	}
	sid, err := c.CreateSession(ctx, apiv2.Session{Description: "nightly", HoldOff: 30,
		Schedule: apiv2.JobSchedule{ScheduleInterval: "1 days"}})
	if err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for i := 0; i < 2; i++ {
		id, err := c.CreateJob(ctx, apiv2.Job{ClientID: "p1_n1", JobActions: []apiv2.Action{backupAction()}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddJobToSession(ctx, sid, id); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, id)
	}
	j0, _ := c.GetJob(ctx, jobs[0])
	if j0.SessionID != sid || j0.JobSchedule.ScheduleInterval != "1 days" {
		t.Errorf("job not linked to the session: %+v", j0)
	}
	// The first member opens a run; the second joins within the hold-off.
	r, err := c.StartSession(ctx, sid, jobs[0], 0)
	if err != nil || r.Result != "success" || r.SessionTag != 1 {
		t.Fatalf("first start: %+v %v", r, err)
	}
	r, err = c.StartSession(ctx, sid, jobs[1], 0)
	if err != nil || r.Result != "success" {
		t.Fatalf("second start: %+v %v", r, err)
	}
	// Starting again in step within the hold-off is held off.
	if r, err = c.StartSession(ctx, sid, jobs[0], 1); err != nil || r.Result != "hold-off" {
		t.Errorf("restart within hold-off: %+v %v", r, err)
	}
	for i, res := range []string{apiv2.ResultSuccess, apiv2.ResultFail} {
		if r, err := c.EndSession(ctx, sid, jobs[i], 1, res); err != nil || r.Result != "success" {
			t.Fatalf("end: %+v %v", r, err)
		}
	}
	s, err := c.GetSession(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != apiv2.StatusCompleted || s.ResultString() != apiv2.ResultFail {
		t.Errorf("session result must cover every member: %s/%s", s.Status, s.ResultString())
	}
	if err := c.RemoveJobFromSession(ctx, sid, jobs[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
}

func errorAs(err error, target **client.StatusError) bool { return errors.As(err, target) }

// An all-projects poll (a central scheduler) keeps two projects' jobs that
// share a job id: ids are unique within a project only. A canned API page
// stands in for the server here, which lists every project only for an
// admin token.
func TestActiveJobsKeepsSameIDInTwoProjects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jobs":[
			{"job_id":"j1","project_id":"pB","client_id":"c","job_actions":[]},
			{"job_id":"j1","project_id":"pC","client_id":"c","job_actions":[]},
			{"job_id":"j1","project_id":"pB","client_id":"c","job_actions":[]}]}`)
	}))
	defer srv.Close()
	active, err := newClient(t, srv.URL).ActiveJobs(context.Background(), "c", true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range active {
		got = append(got, j.ProjectID+"/"+j.JobID)
	}
	if len(got) != 2 || got[0] != "pB/j1" || got[1] != "pC/j1" {
		t.Errorf("ActiveJobs = %v, want [pB/j1 pC/j1] (a repeat dropped, each project's j1 kept)", got)
	}
}
