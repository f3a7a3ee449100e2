package scheduler_test

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/freezer_api/store"
	"freezer.dev/freezer/freezer_scheduler/agentrun"
	"freezer.dev/freezer/freezer_scheduler/scheduler"
)

// These tests run the scheduler against our real freezer-api, in-process
// on SQLite without Keystone. Only the agent is a stand-in (a shell script):
// the real agent's own tests cover what it does with the job file.

func apiServer(t *testing.T) *client.Client {
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
	c, err := client.NewNoAuth(srv.URL, "p1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type node struct {
	s      *scheduler.Scheduler
	cancel context.CancelFunc
	done   chan struct{}
}

// startNode runs a scheduler for clientID whose agent is body.
func startNode(t *testing.T, c *client.Client, clientID, body string) *node {
	t.Helper()
	dir := t.TempDir()
	agent := filepath.Join(dir, "fake-agent")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Each node logs to a buffer that is shown if the test fails.
	logs := &syncBuffer{}
	l := logrus.New()
	l.SetLevel(logrus.DebugLevel)
	l.SetOutput(logs)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of %s:\n%s", clientID, logs.String())
		}
	})
	s, err := scheduler.New(scheduler.Config{ClientID: clientID, Hostname: clientID, Interval: time.Second,
		JobsDir: filepath.Join(dir, "jobs"), Capabilities: scheduler.DefaultCapabilities()},
		scheduler.Deps{API: c, Agent: &agentrun.Runner{AgentPath: agent, Env: []string{"PATH=/usr/bin:/bin"}, AbortGrace: time.Second},
			Log: logrus.NewEntry(l).WithField("node", clientID)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{s: s, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(n.done); _ = s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-n.done
	})
	return n
}

func waitJob(t *testing.T, c *client.Client, id string, timeout time.Duration, cond func(apiv2.JobSchedule) bool) apiv2.JobSchedule {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j, err := c.GetJob(context.Background(), id)
		if err == nil && cond(j.JobSchedule) {
			return j.JobSchedule
		}
		if time.Now().After(deadline) {
			if j != nil {
				t.Fatalf("job %s: timed out; last schedule %+v (err %v)", id, j.JobSchedule, err)
			}
			t.Fatalf("job %s: timed out (%v)", id, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func completed(js apiv2.JobSchedule) bool { return js.Status == apiv2.StatusCompleted }

func newJob(t *testing.T, c *client.Client, clientID string, a apiv2.Action) string {
	t.Helper()
	if _, err := c.RegisterClient(context.Background(), apiv2.ClientInfo{ClientID: clientID, Hostname: clientID}); err != nil {
		t.Fatal(err)
	}
	id, err := c.CreateJob(context.Background(), apiv2.Job{ClientID: clientID, JobActions: []apiv2.Action{a},
		JobSchedule: apiv2.JobSchedule{}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func backup() apiv2.Action {
	return apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "backup", "mode": "fs", "storage": "local",
		"path_to_backup": "/srv", "backup_name": "b1", "container": "/tmp/c"}}
}

const metadata = `echo '{"backup_name": "b1", "container": "/tmp/c", "hostname": "node", "time_stamp": 1795628800, "level": 0}'`

func TestAPIJobRunsAndIsReported(t *testing.T) {
	c := apiServer(t)
	id := newJob(t, c, "p1_node1", backup())
	startNode(t, c, "p1_node1", metadata)
	js := waitJob(t, c, id, 20*time.Second, completed)
	if js.Result != apiv2.ResultSuccess || js.TimeStarted <= 0 || js.TimeEnded < js.TimeStarted || js.Event != "" {
		t.Errorf("final schedule %+v", js)
	}
	bs, err := c.ListBackups(context.Background(), client.ListOptions{Search: &apiv2.Search{Match: []map[string]any{{"job_id": id}}}})
	if err != nil || len(bs) != 1 || bs[0].BackupMetadata.String("backup_name") != "b1" {
		t.Errorf("backups for the job: %+v %v", bs, err)
	}
}

func TestAPIFailingJobIsRetried(t *testing.T) {
	c := apiServer(t)
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	a := backup()
	a.FreezerAction["path_to_backup"] = "/does/not/exist"
	two, zero := 2, 0
	a.MaxRetries, a.MaxRetriesInterval = &two, &zero
	id := newJob(t, c, "p1_node1", a)
	startNode(t, c, "p1_node1", `echo run >> `+calls+`; echo "Critical Error: /does/not/exist: no such file" >&2; exit 1`)
	js := waitJob(t, c, id, 20*time.Second, completed)
	if js.Result != apiv2.ResultFail {
		t.Errorf("result %q", js.Result)
	}
	b, _ := os.ReadFile(calls)
	if n := strings.Count(string(b), "run"); n != 3 {
		t.Errorf("max_retries 2: %d tries, want 3", n)
	}
}

func TestAPIAbortStopsTheAgentWithin5s(t *testing.T) {
	c := apiServer(t)
	id := newJob(t, c, "p1_node1", backup())
	startNode(t, c, "p1_node1", `sleep 120; `+metadata)
	js := waitJob(t, c, id, 20*time.Second, func(js apiv2.JobSchedule) bool {
		return js.Status == apiv2.StatusRunning && js.CurrentPID != 0
	})
	pid := js.CurrentPID
	start := time.Now()
	if _, err := c.JobEvent(context.Background(), id, apiv2.EventAbort); err != nil {
		t.Fatal(err)
	}
	js = waitJob(t, c, id, 10*time.Second, completed)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("abort took %s", took)
	}
	if js.Result != apiv2.ResultAborted {
		t.Errorf("result %q", js.Result)
	}
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && !strings.Contains(string(st), ") Z ") {
		t.Errorf("agent %d still running", pid)
	}
	bs, _ := c.ListBackups(context.Background(), client.ListOptions{})
	if len(bs) != 0 {
		t.Errorf("aborted backup listed: %+v", bs)
	}
}

// Three nodes, one session: all three start their backup within 2 s.
func TestAPISessionMembersStartTogether(t *testing.T) {
	c := apiServer(t)
	ctx := context.Background()
	stamps := filepath.Join(t.TempDir(), "starts")
	at := time.Now().Add(4 * time.Second).Truncate(time.Second)
	sid, err := c.CreateSession(ctx, apiv2.Session{Description: "three", HoldOff: 30,
		Schedule: apiv2.JobSchedule{ScheduleDate: at.Format("2006-01-02T15:04:05")}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 1; i <= 3; i++ {
		cid := "p1_node" + strconv.Itoa(i)
		id := newJob(t, c, cid, backup())
		if err := c.AddJobToSession(ctx, sid, id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i := 1; i <= 3; i++ {
		startNode(t, c, "p1_node"+strconv.Itoa(i), `date +%s.%N >> `+stamps+`; `+metadata)
	}
	for _, id := range ids {
		if js := waitJob(t, c, id, 30*time.Second, completed); js.Result != apiv2.ResultSuccess {
			t.Errorf("job %s: %+v", id, js)
		}
	}
	b, _ := os.ReadFile(stamps)
	var ts []float64
	for _, f := range strings.Fields(string(b)) {
		v, _ := strconv.ParseFloat(f, 64)
		ts = append(ts, v)
	}
	sort.Float64s(ts)
	if len(ts) != 3 || ts[2]-ts[0] > 2 {
		t.Errorf("start times %v: want three within 2 s", ts)
	}
	s, err := c.GetSession(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != apiv2.StatusCompleted || s.ResultString() != apiv2.ResultSuccess {
		t.Errorf("session %s/%s", s.Status, s.ResultString())
	}
}

// A member that comes late past the session's hold-off is out of sync: it
// does not run, and the session's result reflects the missed member.
func TestAPISessionLateMemberDoesNotRun(t *testing.T) {
	c := apiServer(t)
	ctx := context.Background()
	dir := t.TempDir()
	at := time.Now().Add(3 * time.Second).Truncate(time.Second)
	sid, err := c.CreateSession(ctx, apiv2.Session{Description: "late", HoldOff: 1,
		Schedule: apiv2.JobSchedule{ScheduleDate: at.Format("2006-01-02T15:04:05")}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 1; i <= 3; i++ {
		id := newJob(t, c, "p1_node"+strconv.Itoa(i), backup())
		if err := c.AddJobToSession(ctx, sid, id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i := 1; i <= 2; i++ {
		startNode(t, c, "p1_node"+strconv.Itoa(i), metadata)
	}
	for _, id := range ids[:2] {
		waitJob(t, c, id, 30*time.Second, completed)
	}
	time.Sleep(3 * time.Second) // well past the 1 s hold-off (the server counts whole seconds)
	late := filepath.Join(dir, "late-ran")
	startNode(t, c, "p1_node3", `touch `+late+`; `+metadata)
	js := waitJob(t, c, ids[2], 30*time.Second, completed)
	if js.Result != apiv2.ResultFail {
		t.Errorf("late member result %q", js.Result)
	}
	if _, err := os.Stat(late); err == nil {
		t.Error("the late member ran its backup")
	}
	s, _ := c.GetSession(ctx, sid)
	if s.ResultString() != apiv2.ResultFail {
		t.Errorf("session result %q: must include the member that missed the run", s.ResultString())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAPIFailingActionWithoutMaxRetriesRunsOnce: on our API and scheduler,
// an action sent without max_retries runs once, as upstream's scheduler
// runs it (its default is no retry): the API must not store a default
// (it stored 5, and the action ran 6 times).
func TestAPIFailingActionWithoutMaxRetriesRunsOnce(t *testing.T) {
	c := apiServer(t)
	calls := filepath.Join(t.TempDir(), "calls")
	a := apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "exec", "command": "exit 1"}}
	id := newJob(t, c, "p1_node1", a)
	startNode(t, c, "p1_node1", `echo run >> `+calls+`; exit 1`)
	js := waitJob(t, c, id, 20*time.Second, completed)
	if js.Result != apiv2.ResultFail {
		t.Errorf("result %q", js.Result)
	}
	b, _ := os.ReadFile(calls)
	if n := strings.Count(string(b), "run"); n != 1 {
		t.Errorf("no max_retries: %d tries, want 1", n)
	}
}
