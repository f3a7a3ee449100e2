package scheduler

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_scheduler/agentrun"
)

const metadataAgent = `echo '{"backup_name": "b1", "container": "c1", "hostname": "node", "time_stamp": 1795628800}'`

func TestFakeAPIOneShotJobRunsOnceAndCompletes(t *testing.T) {
	h := newHarness(t, metadataAgent, nil)
	hook := logtest.NewLocal(h.s.log.Logger)
	h.api.put(backupJob("j1", apiv2.JobSchedule{TimeCreated: 1, TimeStarted: -1, TimeEnded: -1}))
	h.start()
	h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	// The poll leaves the completed job out from now on: that is its
	// normal end, not worth a warning.
	h.s.Poll(context.Background())
	h.s.Poll(context.Background())
	for _, e := range hook.AllEntries() {
		if e.Level <= logrus.WarnLevel {
			t.Errorf("a job that ran once and completed logged %s: %s", e.Level, e.Message)
		}
	}

	if st, res := h.status("j1"); st != apiv2.StatusCompleted || res != apiv2.ResultSuccess {
		t.Errorf("final status %s/%s", st, res)
	}
	if n := h.agentRuns(); n != 1 {
		t.Errorf("agent ran %d times", n)
	}
	b := h.api.backupList()
	if len(b) != 1 || b[0]["job_id"] != "j1" || b[0]["backup_name"] != "b1" {
		t.Errorf("backups posted: %v", b)
	}
	// Every transition was reported with the whole schedule.
	var seq []string
	for _, p := range h.api.patchList("j1") {
		seq = append(seq, p.Status)
		if p.TimeCreated != 1 {
			t.Errorf("PATCH lost time_created (replace semantics need the whole schedule): %+v", p)
		}
	}
	got := strings.Join(seq, ",")
	if got != "scheduled,running,running,completed" {
		t.Errorf("status sequence %s", got)
	}
	ps := h.api.patchList("j1")
	if run := ps[1]; run.TimeStarted < t0.Add(2*time.Second).Unix() || run.TimeStarted > t0.Add(10*time.Second).Unix() ||
		run.TimeEnded != -1 || run.Result != "" {
		t.Errorf("running PATCH %+v", run)
	}
	if pid := ps[2]; pid.CurrentPID == 0 {
		t.Errorf("pid PATCH without current_pid: %+v", pid)
	}
	if last := ps[len(ps)-1]; last.TimeEnded < last.TimeStarted || last.Event != "" {
		t.Errorf("final PATCH %+v", last)
	}
	// The job document was cached in the jobs dir.
	if _, err := os.Stat(filepath.Join(h.dir, "jobs", "job_j1.conf")); err != nil {
		t.Errorf("job not cached: %v", err)
	}
	// Later polls do not run it again.
	h.clock.Advance(10 * time.Minute)
	time.Sleep(100 * time.Millisecond)
	if n := h.agentRuns(); n != 1 {
		t.Errorf("agent ran %d times after more polls", n)
	}
}

func TestFakeAPIRetriesAndFails(t *testing.T) {
	h := newHarness(t, `echo "Critical Error: path /nope does not exist" >&2; exit 1`, nil)
	a := apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "backup", "path_to_backup": "/nope"},
		MaxRetries: intp(2), MaxRetriesInterval: intp(5)}
	h.api.put(backupJob("j1", apiv2.JobSchedule{}, a))
	h.start()
	h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if _, res := h.status("j1"); res != apiv2.ResultFail {
		t.Errorf("result %s", res)
	}
	if n := h.agentRuns(); n != 3 {
		t.Errorf("max_retries 2: agent ran %d times, want 3", n)
	}
	if len(h.api.backupList()) != 0 {
		t.Error("a failed backup was posted")
	}
}

func TestFakeAPIMandatoryAndSkippedActions(t *testing.T) {
	// The agent fails for action "admin" and succeeds otherwise; it logs
	// which action ran.
	body := `a=$(sed -n 's/^action = //p' "$4"); echo "$a" >> ` + "ACTIONS" + `; [ "$a" != admin ]`
	h := newHarness(t, "", nil)
	actions := filepath.Join(h.dir, "actions")
	h.s.agent.AgentPath = fakeAgent(t, h.dir, h.calls, strings.ReplaceAll(body, "ACTIONS", actions))
	h.api.put(backupJob("j1", apiv2.JobSchedule{},
		apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "admin"}},
		apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "info"}},
		apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "restore"}, Mandatory: boolp(true)},
		apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "backup", "mandatory": true}},
	))
	h.start()
	h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	b, _ := os.ReadFile(actions)
	if got := strings.Fields(string(b)); strings.Join(got, ",") != "admin,restore,backup" {
		t.Errorf("actions run: %v (info must be skipped after the failure, mandatory ones run)", got)
	}
	if _, res := h.status("j1"); res != apiv2.ResultFail {
		t.Errorf("result %s", res)
	}
}

func TestFakeAPIAbortStopsTheAgent(t *testing.T) {
	h := newHarness(t, `sleep 60; `+metadataAgent, nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{}))
	h.start()
	h.until("job running", time.Second, func() bool {
		ps := h.api.patchList("j1")
		return len(ps) > 0 && ps[len(ps)-1].CurrentPID != 0
	})
	pid := h.api.job("j1").JobSchedule.CurrentPID
	h.api.setEvent("j1", apiv2.EventAbort)
	start := time.Now()
	h.s.Poll(context.Background())
	h.until("job aborted", 100*time.Millisecond, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("abort took %s", took)
	}
	if _, res := h.status("j1"); res != apiv2.ResultAborted {
		t.Errorf("result %s", res)
	}
	if _, err := os.Stat("/proc/" + itoa(pid)); err == nil {
		if b, _ := os.ReadFile("/proc/" + itoa(pid) + "/stat"); !strings.Contains(string(b), " Z ") {
			t.Errorf("agent pid %d still alive", pid)
		}
	}
	if len(h.api.backupList()) != 0 {
		t.Error("an aborted backup was posted")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestFakeAPIDisableExec(t *testing.T) {
	h := newHarness(t, "true", func(c *Config) { c.DisableExec = true })
	h.api.put(backupJob("j1", apiv2.JobSchedule{},
		apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "exec", "command": "rm -rf /"}}))
	h.start()
	h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if _, res := h.status("j1"); res != apiv2.ResultFail {
		t.Errorf("result %s", res)
	}
	if h.agentRuns() != 0 {
		t.Error("exec job ran with disable_exec")
	}
}

func TestFakeAPIIntervalJobStopEvent(t *testing.T) {
	h := newHarness(t, metadataAgent, nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{ScheduleInterval: "10 minutes"}))
	h.start()
	h.until("two runs", 30*time.Second, func() bool { return h.agentRuns() >= 2 && len(h.api.backupList()) >= 2 })
	h.until("scheduled again", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusScheduled })
	if _, res := h.status("j1"); res != apiv2.ResultSuccess {
		t.Errorf("result %s", res)
	}
	h.api.setEvent("j1", apiv2.EventStop)
	h.s.Poll(context.Background())
	if st, _ := h.status("j1"); st != apiv2.StatusStop {
		t.Errorf("after stop: %s", st)
	}
	if ev := h.api.job("j1").JobSchedule.Event; ev != "" {
		t.Errorf("event not cleared: %q", ev)
	}
	runs := h.agentRuns()
	h.clock.Advance(time.Hour)
	time.Sleep(200 * time.Millisecond)
	if h.agentRuns() != runs {
		t.Error("a stopped job ran")
	}
	// start again
	h.api.setEvent("j1", apiv2.EventStart)
	h.s.Poll(context.Background())
	if st, _ := h.status("j1"); st != apiv2.StatusScheduled {
		t.Errorf("after start: %s", st)
	}
}

func TestFakeAPIStoppedJobIsNotAutostarted(t *testing.T) {
	h := newHarness(t, "true", nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{Status: apiv2.StatusStop}))
	h.api.put(backupJob("j2", apiv2.JobSchedule{}, apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "backup", "storage": "tape"}}))
	h.start()
	h.clock.Advance(5 * time.Second)
	time.Sleep(200 * time.Millisecond)
	if h.agentRuns() != 0 {
		t.Error("stopped or unsupported job ran")
	}
	if st, _ := h.status("j1"); st != apiv2.StatusStop {
		t.Errorf("j1 %s", st)
	}
	if len(h.api.patchList("j2")) != 0 {
		t.Error("a job needing an unsupported storage was touched")
	}
}

func TestFakeAPIJobRemovedFromAPI(t *testing.T) {
	h := newHarness(t, "true", nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{ScheduleInterval: "1 hours"}))
	h.start()
	h.until("scheduled", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusScheduled })
	h.api.mu.Lock()
	delete(h.api.jobs, "j1")
	h.api.mu.Unlock()
	// Missing from one poll is not enough (see TestFakeAPIJobMissingFromOnePollIsKept).
	h.s.Poll(context.Background())
	h.s.Poll(context.Background())
	if _, ok := h.s.Jobs()["j1"]; ok {
		t.Error("job still known after it disappeared from the API")
	}
	h.clock.Advance(2 * time.Hour)
	time.Sleep(200 * time.Millisecond)
	if h.agentRuns() != 0 {
		t.Error("removed job ran")
	}
}

func TestFakeAPISessionHoldOffIsWaitedOut(t *testing.T) {
	h := newHarness(t, metadataAgent, nil)
	h.api.sessionStarts = []apiv2.SessionActionResult{{Result: "hold-off", SessionTag: 3}, {Result: "hold-off", SessionTag: 3},
		{Result: "success", SessionTag: 4}}
	h.api.session = apiv2.Session{SessionTag: 3, HoldOff: 30, TimeStart: t0.Unix()}
	j := backupJob("j1", apiv2.JobSchedule{})
	j.SessionID, j.SessionTag = "s1", 3
	h.api.put(j)
	h.start()
	h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if h.agentRuns() != 1 || h.api.startCalls != 3 {
		t.Errorf("agent runs %d, session starts %d", h.agentRuns(), h.api.startCalls)
	}
	ps := h.api.patchList("j1")
	started := time.Unix(ps[len(ps)-1].TimeStarted, 0)
	if got := h.api.job("j1").SessionTag; got != 4 {
		t.Errorf("session tag %d, want 4", got)
	}
	if len(h.api.sessionEnds) != 1 || h.api.sessionEnds[0].Result != apiv2.ResultSuccess || h.api.sessionEnds[0].CurrentTag != 4 {
		t.Errorf("session ends %+v", h.api.sessionEnds)
	}
	_ = started
}

func TestFakeAPISessionOutOfSyncDoesNotRun(t *testing.T) {
	h := newHarness(t, metadataAgent, nil)
	h.api.sessionStarts = []apiv2.SessionActionResult{{Result: "out-of-sync", SessionTag: 7}}
	j := backupJob("j1", apiv2.JobSchedule{})
	j.SessionID, j.SessionTag = "s1", 5
	h.api.put(j)
	h.start()
	h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if h.agentRuns() != 0 {
		t.Error("an out-of-sync member ran")
	}
	if _, res := h.status("j1"); res != apiv2.ResultFail {
		t.Errorf("result %s", res)
	}
	if got := h.api.job("j1").SessionTag; got != 7 {
		t.Errorf("tag not brought in step: %d", got)
	}
	if len(h.api.sessionEnds) != 1 || h.api.sessionEnds[0].Result != apiv2.ResultFail {
		t.Errorf("the missed run must be reported to the session: %+v", h.api.sessionEnds)
	}
}

func TestFakeAPISessionHoldOffWaitIsBounded(t *testing.T) {
	h := newHarness(t, metadataAgent, func(c *Config) { c.SessionWait = 20 * time.Second })
	for i := 0; i < 50; i++ {
		h.api.sessionStarts = append(h.api.sessionStarts, apiv2.SessionActionResult{Result: "hold-off", SessionTag: 1})
	}
	j := backupJob("j1", apiv2.JobSchedule{})
	j.SessionID, j.SessionTag = "s1", 1
	h.api.put(j)
	h.start()
	h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if h.agentRuns() != 0 {
		t.Error("ran although the session never left hold-off")
	}
	if calls := h.api.startCalls; calls < 2 || calls > 10 {
		t.Errorf("session start calls %d: want a few, with backoff", calls)
	}
}

// The previous scheduler process was killed while the agent ran: the new
// one re-attaches and does not run the action again.
func TestFakeAPIRestartReattachesToRunningAgent(t *testing.T) {
	h := newHarness(t, "", nil)
	release, runDir := orphanRuns(t, h, "j1")
	h.start()
	time.Sleep(300 * time.Millisecond)
	if st, _ := h.status("j1"); st != apiv2.StatusRunning {
		t.Fatalf("status %s while the adopted agent runs", st)
	}
	os.WriteFile(release, nil, 0o600)
	h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if _, res := h.status("j1"); res != apiv2.ResultSuccess {
		t.Errorf("result %s", res)
	}
	if h.agentRuns() != 1 {
		t.Errorf("agent ran %d times", h.agentRuns())
	}
	if b := h.api.backupList(); len(b) != 1 || b[0]["job_id"] != "j1" {
		t.Errorf("backups %v", b)
	}
	if _, err := os.Stat(recordPath(runDir, "j1")); !os.IsNotExist(err) {
		t.Error("run record left behind")
	}
}

func TestFakeAPIRestartWithLostRunIsNotRerun(t *testing.T) {
	h := newHarness(t, metadataAgent, nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{Status: apiv2.StatusRunning, CurrentPID: 999999999, TimeStarted: t0.Unix() - 60, TimeEnded: -1}))
	h.start()
	h.until("job settled", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if _, res := h.status("j1"); res != apiv2.ResultFail {
		t.Errorf("result %s", res)
	}
	h.clock.Advance(time.Hour)
	time.Sleep(200 * time.Millisecond)
	if h.agentRuns() != 0 {
		t.Error("a one-shot job that was running before the restart ran again")
	}
}

func TestFakeAPIShutdownAbortsRuns(t *testing.T) {
	h := newHarness(t, `sleep 60`, nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{ScheduleInterval: "1 hours", ScheduleStartDate: "2026-03-10T12:00:30"}))
	h.start()
	h.until("job running", time.Second, func() bool {
		ps := h.api.patchList("j1")
		return len(ps) > 0 && ps[len(ps)-1].CurrentPID != 0
	})
	start := time.Now()
	h.stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("shutdown took %s", took)
	}
	st, res := h.status("j1")
	if res != apiv2.ResultAborted || st != apiv2.StatusScheduled {
		t.Errorf("after shutdown: %s/%s", st, res)
	}
}

func TestFakeAPIFailedPatchIsResent(t *testing.T) {
	h := newHarness(t, metadataAgent, nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{ScheduleInterval: "1 hours"}))
	h.api.failPatches = 3 // the first PATCH fails all its tries
	h.start()
	h.until("status reported on a later poll", 10*time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusScheduled })
}

// A PATCH that is slow to go out must not land after a newer one of the
// same job: the API keeps the last state it receives. (Seen with a session
// member whose run ended before the poll's PATCH of its autostart had gone
// out: the job stayed "scheduled" for good.) Here the first PATCH is held
// back until the run's "completed" arrives or a second passes.
func TestFakeAPIPatchesOfAJobStayInOrder(t *testing.T) {
	h := newHarness(t, metadataAgent, nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{TimeCreated: 1, TimeStarted: -1, TimeEnded: -1}))
	var first atomic.Bool
	h.api.patchGate = func(string, apiv2.JobPatch) {
		if !first.CompareAndSwap(false, true) {
			return
		}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if s, _ := h.status("j1"); s == apiv2.StatusCompleted {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	h.start()
	h.until("four PATCHes", time.Second, func() bool { return len(h.api.patchList("j1")) >= 4 })
	var seq []string
	for _, p := range h.api.patchList("j1") {
		seq = append(seq, p.Status)
	}
	if got := strings.Join(seq, ","); got != "scheduled,running,running,completed" {
		t.Errorf("PATCHes applied in the order %s", got)
	}
	if st, _ := h.status("j1"); st != apiv2.StatusCompleted {
		t.Errorf("final status %s", st)
	}
}

func TestNoAPIModeRunsLocalJobFiles(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	jobs := filepath.Join(dir, "conf.d")
	os.MkdirAll(jobs, 0o700)
	os.WriteFile(filepath.Join(jobs, "nightly.conf"), []byte(`{"job_schedule": {}, "job_actions": [{"freezer_action": {"action": "backup", "mode": "fs"}}]}`), 0o600)
	os.WriteFile(filepath.Join(jobs, "notes.txt"), []byte("not a job"), 0o600)
	runner := &agentrun.Runner{AgentPath: fakeAgent(t, dir, calls, "true"), Env: []string{"PATH=/usr/bin:/bin"}}
	clk := newFakeClock(t0)
	s, err := New(Config{NoAPI: true, JobsDir: jobs, Capabilities: DefaultCapabilities(), Location: time.UTC}, Deps{Agent: runner, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(calls); strings.Count(string(b), "run") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("local job never ran")
		}
		clk.Advance(time.Second)
		time.Sleep(10 * time.Millisecond)
	}
	if j, ok := s.Jobs()["nightly"]; !ok || j.JobSchedule.Status == "" {
		t.Errorf("job id from the file name: %+v", s.Jobs())
	}
	cancel()
	<-done

	if _, err := ReadJobFiles(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing jobs dir accepted")
	}
	os.WriteFile(filepath.Join(jobs, "broken.conf"), []byte("{"), 0o600)
	if _, err := ReadJobFiles(jobs); err == nil {
		t.Error("broken job file accepted")
	}
}

// Centralized mode: a job of another project, run through its trust, is
// reported to its own project and the agent authenticates with the trust.
func TestFakeAPICentralizedJobUsesItsProjectAndTrust(t *testing.T) {
	env := filepath.Join(t.TempDir(), "env")
	h := newHarness(t, `env > `+env+`; `+metadataAgent, func(c *Config) { c.Centralized = true })
	h.s.agent.Env = []string{"PATH=/usr/bin:/bin", "OS_PROJECT_NAME=service", "OS_USERNAME=freezer"}
	tenant := newFakeAPI()
	h.s.forProj = func(p string) API {
		if p != "tenant1" {
			t.Errorf("API asked for project %q", p)
		}
		return tenant
	}
	j := backupJob("j1", apiv2.JobSchedule{})
	j.ProjectID = "tenant1"
	j.UserCredentials = &apiv2.UserCredentials{TrustID: "trust-42", TrustorUserID: "u9"}
	h.api.put(j)
	noTrust := backupJob("j2", apiv2.JobSchedule{})
	h.api.put(noTrust) // ignored: no trust in centralized mode
	tenant.put(j)
	h.start()
	h.until("job completed in the tenant's project", time.Second, func() bool {
		return tenant.job("j1").JobSchedule.Status == apiv2.StatusCompleted
	})
	if b := tenant.backupList(); len(b) != 1 {
		t.Errorf("tenant backups %v", b)
	}
	if len(h.api.backupList()) != 0 || len(h.api.patchList("j1")) != 0 {
		t.Error("reported to the scheduler's own project")
	}
	if len(h.api.patchList("j2")) != 0 || h.agentRuns() != 1 {
		t.Error("a job without a trust was run in centralized mode")
	}
	b, _ := os.ReadFile(env)
	if !strings.Contains(string(b), "OS_TRUST_ID=trust-42\n") || strings.Contains(string(b), "OS_PROJECT_NAME") ||
		!strings.Contains(string(b), "OS_USERNAME=freezer") {
		t.Errorf("agent environment:\n%s", b)
	}
}

// A poll that read the job before the end of its aborted run must not turn
// the finished job into "stop".
func TestFakeAPIStalePollAfterAbortIsIgnored(t *testing.T) {
	h := newHarness(t, `sleep 60`, nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{}))
	h.start()
	h.until("job running", time.Second, func() bool {
		ps := h.api.patchList("j1")
		return len(ps) > 0 && ps[len(ps)-1].CurrentPID != 0
	})
	h.api.setEvent("j1", apiv2.EventAbort)
	stale, _ := h.api.ActiveJobs(context.Background(), "p_node", false)
	h.s.apply(context.Background(), stale)
	h.until("aborted", 100*time.Millisecond, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	h.s.apply(context.Background(), stale) // the same, now stale, document again
	if st, res := h.status("j1"); st != apiv2.StatusCompleted || res != apiv2.ResultAborted {
		t.Errorf("after a stale poll: %s/%s", st, res)
	}
}

// concurrent_jobs bounds how many jobs run at once.
func TestFakeAPIConcurrentJobs(t *testing.T) {
	dir := t.TempDir()
	running := filepath.Join(dir, "running")
	counts := filepath.Join(dir, "counts")
	os.MkdirAll(running, 0o700)
	body := `touch ` + running + `/$$; ls ` + running + ` | wc -l >> ` + counts + `; sleep 0.5; rm ` + running + `/$$`
	h := newHarness(t, body, func(c *Config) { c.ConcurrentJobs = 2 })
	for _, id := range []string{"j1", "j2", "j3", "j4"} {
		h.api.put(backupJob(id, apiv2.JobSchedule{}))
	}
	h.start()
	h.until("all four jobs completed", time.Second, func() bool {
		for _, id := range []string{"j1", "j2", "j3", "j4"} {
			if s, _ := h.status(id); s != apiv2.StatusCompleted {
				return false
			}
		}
		return true
	})
	b, _ := os.ReadFile(counts)
	peak := 0
	for _, f := range strings.Fields(string(b)) {
		if n, _ := strconv.Atoi(f); n > peak {
			peak = n
		}
	}
	if peak != 2 {
		t.Errorf("peak concurrency %d, want 2 (counts %q)", peak, b)
	}
}

// An interval too long for a time.Duration is reported like any other bad
// schedule (the job is "completed", it never runs); before, the product
// wrapped to a negative interval, the fire time stayed in the past and the
// dispatch loop spun.
func TestFakeAPIOverflowingIntervalIsABadSchedule(t *testing.T) {
	h := newHarness(t, "true", nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{ScheduleInterval: "15251 weeks"}))
	h.s.Poll(context.Background())
	if st, _ := h.status("j1"); st != apiv2.StatusCompleted {
		t.Errorf("status %q, want completed", st)
	}
	if wait := h.s.dispatchDue(context.Background()); wait <= 0 {
		t.Errorf("dispatch asks to run again in %s: it would spin", wait)
	}
	if h.agentRuns() != 0 {
		t.Error("job with an invalid interval ran")
	}
}

// sendMu keeps one PATCH of a job in flight at a time, but an older body can
// still go out after a newer one failed. Its success must not clear dirty:
// the newer state has not reached the API and the next poll must send it.
func TestFakeAPIOlderPatchDoesNotHideAFailedNewerOne(t *testing.T) {
	h := newHarness(t, "true", nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{ScheduleInterval: "1 hours"}))
	ctx := context.Background()
	h.s.Poll(ctx)
	h.s.mu.Lock()
	j := h.s.jobs["j1"]
	older := j.snapshot() // "scheduled"
	h.s.markCompleted(j)
	newer := j.snapshot() // "completed"
	h.s.mu.Unlock()

	h.api.mu.Lock()
	h.api.failPatches = 1
	h.api.mu.Unlock()
	gone, cancel := context.WithCancel(ctx)
	cancel() // no retries: the newer PATCH fails once and is given up
	h.s.patch(gone, newer)
	h.s.patch(ctx, older)
	if st, _ := h.status("j1"); st != apiv2.StatusScheduled {
		t.Fatalf("setup: API status %q, want the older body's scheduled", st)
	}
	h.s.mu.Lock()
	dirty := j.dirty
	h.s.mu.Unlock()
	if !dirty {
		t.Error("job not dirty although its newest state never reached the API")
	}
	h.s.Poll(ctx)
	if st, _ := h.status("j1"); st != apiv2.StatusCompleted {
		t.Errorf("after the next poll the API says %q, want completed", st)
	}
}

// A job removed with event=remove keeps status "removed" in the API and is
// still polled; a restarted scheduler must not start it again. A start
// event (which clears the status) brings it back.
func TestFakeAPIRemovedJobIsNotAutostarted(t *testing.T) {
	h := newHarness(t, "true", nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{Status: apiv2.StatusRemoved}))
	h.start()
	h.clock.Advance(5 * time.Second)
	time.Sleep(200 * time.Millisecond)
	h.clock.Advance(5 * time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := h.agentRuns(); n != 0 {
		t.Errorf("removed job ran %d times", n)
	}
	if st, _ := h.status("j1"); st != apiv2.StatusRemoved {
		t.Errorf("status %q, want removed", st)
	}
	h.api.mu.Lock()
	j := h.api.jobs["j1"]
	j.JobSchedule.Event, j.JobSchedule.Status = apiv2.EventStart, ""
	h.api.jobs["j1"] = j
	h.api.mu.Unlock()
	h.s.Poll(context.Background())
	h.until("job run after a start event", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
}

// A run re-attached after a restart holds a worker slot like any run: with
// concurrent_jobs = 1, a job that comes due meanwhile waits for it.
func TestFakeAPIResumedRunTakesAWorkerSlot(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.ConcurrentJobs = 1 })
	release, _ := orphanRuns(t, h, "j1")
	h.api.put(backupJob("j2", apiv2.JobSchedule{})) // due two seconds after the first poll
	h.start()
	for i := 0; i < 10; i++ {
		h.clock.Advance(time.Second)
		time.Sleep(30 * time.Millisecond)
	}
	if n := h.agentRuns(); n != 1 {
		t.Errorf("%d agents ran while the resumed run held the only worker slot, want 1", n)
	}
	if st, _ := h.status("j2"); st == apiv2.StatusRunning {
		t.Error("j2 reported running while the resumed run held the only worker slot")
	}
	os.WriteFile(release, nil, 0o600)
	h.until("both jobs completed", time.Second, func() bool {
		s1, _ := h.status("j1")
		s2, _ := h.status("j2")
		return s1 == apiv2.StatusCompleted && s2 == apiv2.StatusCompleted
	})
	if n := h.agentRuns(); n != 2 {
		t.Errorf("agent ran %d times, want 2", n)
	}
}

// The client pages through the jobs by offset, so a job completing between
// two pages can make one poll skip another job that still exists. One such
// poll must not drop a scheduled job; two in a row do.
func TestFakeAPIJobMissingFromOnePollIsKept(t *testing.T) {
	h := newHarness(t, "true", nil)
	h.api.put(backupJob("j1", apiv2.JobSchedule{ScheduleInterval: "1 hours"}))
	ctx := context.Background()
	h.s.Poll(ctx)
	next := func() time.Time {
		h.s.mu.Lock()
		defer h.s.mu.Unlock()
		return h.s.jobs["j1"].next
	}
	before := next()
	h.s.apply(ctx, nil) // a poll whose pages skipped j1
	if _, ok := h.s.Jobs()["j1"]; !ok {
		t.Fatal("job dropped after missing from a single poll")
	}
	h.s.Poll(ctx) // listed again: nothing changed
	if _, ok := h.s.Jobs()["j1"]; !ok || !next().Equal(before) {
		t.Errorf("job re-created or rescheduled after it came back (known %v, next %v, was %v)", ok, next(), before)
	}
	h.s.apply(ctx, nil)
	h.s.apply(ctx, nil)
	if _, ok := h.s.Jobs()["j1"]; ok {
		t.Error("job still known after missing from two polls in a row")
	}
}

// A running job that one poll skips still reports its run when it ends: it
// is not treated as removed (which skipped the final PATCH and deleted the
// run record, so that the next poll reported a successful run as failed).
// If it was missed long enough to be marked for removal, showing up again
// takes the mark back.
func TestFakeAPIRunningJobMissingFromPollsStillReports(t *testing.T) {
	for _, misses := range []int{1, 2} {
		t.Run(itoa(misses), func(t *testing.T) {
			h := newHarness(t, "", nil)
			release := filepath.Join(h.dir, "release")
			h.s.agent.AgentPath = fakeAgent(t, h.dir, h.calls, `while [ ! -e `+release+` ]; do sleep 0.05; done; `+metadataAgent)
			h.api.put(backupJob("j1", apiv2.JobSchedule{}))
			h.start()
			h.until("job running", time.Second, func() bool {
				ps := h.api.patchList("j1")
				return len(ps) > 0 && ps[len(ps)-1].CurrentPID != 0
			})
			ctx := context.Background()
			for i := 0; i < misses; i++ {
				h.s.apply(ctx, nil)
			}
			h.s.Poll(ctx) // listed again
			os.WriteFile(release, nil, 0o600)
			h.until("job completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
			if _, res := h.status("j1"); res != apiv2.ResultSuccess {
				t.Errorf("result %q, want success", res)
			}
			if n := h.agentRuns(); n != 1 {
				t.Errorf("agent ran %d times", n)
			}
		})
	}
}

// event=remove on a running job still aborts the run and the job does not
// run again, although every poll that lists the job first clears a remove
// mark (fix for jobs missing from one poll). The run's end is reported as
// removed/aborted, with no "fail" from a later poll.
func TestFakeAPIRemoveEventWhileRunningAborts(t *testing.T) {
	h := newHarness(t, `sleep 60`, nil)
	hook := logtest.NewLocal(h.s.log.Logger)
	h.api.put(backupJob("j1", apiv2.JobSchedule{ScheduleInterval: "1 hours", ScheduleStartDate: "2026-03-10T12:00:30"}))
	h.start()
	// Running means started and past its first line: a pid alone is a
	// process the abort may kill before the fake agent records its run.
	h.until("job running", time.Second, func() bool {
		ps := h.api.patchList("j1")
		return len(ps) > 0 && ps[len(ps)-1].CurrentPID != 0 && h.agentRuns() == 1
	})
	h.api.setEvent("j1", apiv2.EventRemove)
	h.s.Poll(context.Background())
	h.s.Poll(context.Background())
	h.until("job removed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusRemoved })
	for i := 0; i < 30; i++ {
		h.clock.Advance(10 * time.Minute)
		time.Sleep(5 * time.Millisecond)
	}
	if n := h.agentRuns(); n != 1 {
		t.Errorf("agent ran %d times", n)
	}
	// The end of the aborted run is reported at once as removed/aborted,
	// like an abort event's; the job is not left "running" for the next
	// poll to take for a lost run of an earlier process and report "fail".
	ps := h.api.patchList("j1")
	var seq []string
	for _, p := range ps {
		seq = append(seq, p.Status+"/"+p.Result)
	}
	last := 0
	for i, p := range ps {
		if p.Status == apiv2.StatusRunning {
			last = i
		}
		if p.Result == apiv2.ResultFail {
			t.Errorf("the aborted run was reported failed; PATCHes: %v", seq)
			break
		}
	}
	if len(ps) <= last+1 || ps[last+1].Status != apiv2.StatusRemoved || ps[last+1].Result != apiv2.ResultAborted {
		t.Errorf("the PATCH after the run is not removed/aborted; PATCHes: %v", seq)
	}
	if st, res := h.status("j1"); st != apiv2.StatusRemoved || res != apiv2.ResultAborted {
		t.Errorf("job ends %s/%s, want removed/aborted; PATCHes: %v", st, res, seq)
	}
	for _, e := range hook.AllEntries() {
		if strings.Contains(e.Message, "earlier scheduler process") {
			t.Errorf("the removed job was taken for a run of an earlier process: %q", e.Message)
		}
	}
}

// A re-attached run still waiting for a worker slot can be aborted: it ends
// as aborted without taking a slot, and the run holding the slot goes on.
func TestFakeAPIResumedRunWaitingForASlotCanBeAborted(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.ConcurrentJobs = 1 })
	release, runDir := orphanRuns(t, h, "j1", "j2")
	h.start()
	h.until("both runs adopted", 100*time.Millisecond, func() bool { return len(h.s.Jobs()) == 2 })
	// The poll lists the jobs by id: j1 is adopted first and takes the
	// only slot, j2 waits for it.
	waiting := "j2"
	if n := len(h.s.slots); n != 1 {
		t.Fatalf("%d slots taken, want 1", n)
	}
	h.api.setEvent(waiting, apiv2.EventAbort)
	h.s.Poll(context.Background())
	h.until("waiting run aborted", time.Second, func() bool { s, _ := h.status(waiting); return s == apiv2.StatusCompleted })
	if _, res := h.status(waiting); res != apiv2.ResultAborted {
		t.Errorf("aborted run's result %q", res)
	}
	if _, err := os.Stat(filepath.Join(runDir, waiting+"-0-0.out")); !os.IsNotExist(err) {
		t.Errorf("aborted run's files left behind: %v", err)
	}
	os.WriteFile(release, nil, 0o600)
	h.until("j1 completed", time.Second, func() bool { s, _ := h.status("j1"); return s == apiv2.StatusCompleted })
	if _, res := h.status("j1"); res != apiv2.ResultSuccess {
		t.Errorf("j1 result %q", res)
	}
}

// centralAPI is a central node's API in these tests: its poll lists the
// jobs of every project, each project being its own fakeAPI (whose jobs
// are keyed by job id alone, as within one project).
type centralAPI struct {
	*fakeAPI
	projects []*fakeAPI
}

func (c centralAPI) ActiveJobs(ctx context.Context, clientID string, all bool) ([]apiv2.Job, error) {
	var out []apiv2.Job
	for _, p := range c.projects {
		js, err := p.ActiveJobs(ctx, clientID, all)
		if err != nil {
			return nil, err
		}
		out = append(out, js...)
	}
	return out, nil
}

// Centralized mode: a job id is unique only within its project, so two
// projects' jobs with the same id are two jobs. Each runs, with its own
// trust, and is reported to its own project; neither hides the other, and
// each has its own cached document.
func TestFakeAPICentralizedSameJobIDInTwoProjects(t *testing.T) {
	trusts := filepath.Join(t.TempDir(), "trusts")
	h := newHarness(t, `echo "$OS_TRUST_ID" >> `+trusts+`; `+metadataAgent, func(c *Config) { c.Centralized = true })
	projects := map[string]*fakeAPI{"projB": newFakeAPI(), "projC": newFakeAPI()}
	for _, p := range []string{"projB", "projC"} {
		j := backupJob("j1", apiv2.JobSchedule{})
		j.ProjectID = p
		j.UserCredentials = &apiv2.UserCredentials{TrustID: "trust-" + p}
		projects[p].put(j)
	}
	h.s.api = centralAPI{fakeAPI: h.api, projects: []*fakeAPI{projects["projB"], projects["projC"]}}
	h.s.forProj = func(p string) API { return projects[p] }
	done := func() bool {
		return projects["projB"].job("j1").JobSchedule.Status == apiv2.StatusCompleted &&
			projects["projC"].job("j1").JobSchedule.Status == apiv2.StatusCompleted
	}
	h.start()
	for i := 0; i < 100 && !done(); i++ {
		h.clock.Advance(time.Second)
		time.Sleep(20 * time.Millisecond)
	}
	for p, api := range projects {
		if js := api.job("j1").JobSchedule; js.Status != apiv2.StatusCompleted || js.Result != apiv2.ResultSuccess {
			t.Errorf("%s's job ended %q/%q, want completed/success", p, js.Status, js.Result)
		}
		if _, err := os.Stat(filepath.Join(h.s.cfg.JobsDir, "job_j1@"+p+".conf")); err != nil {
			t.Errorf("%s's job document not cached: %v", p, err)
		}
	}
	b, _ := os.ReadFile(trusts)
	if got := strings.Fields(string(b)); len(got) != 2 || got[0] == got[1] {
		t.Errorf("agent runs with trusts %v, want one run per project", got)
	}
	if k := h.s.key(apiv2.Job{JobID: `../a\b`, ProjectID: "p/q"}); strings.ContainsAny(k, `/\`) {
		t.Errorf("key %q has a path separator", k)
	}
}

// orphanRuns starts, for each id, an agent that waits for the file
// release, as a killed scheduler process would have left it, with its run
// record and a job the API says is running; it returns release and the run
// directory. The test process is the agents' real parent and reaps them.
func orphanRuns(t *testing.T, h *harness, ids ...string) (release, runDir string) {
	t.Helper()
	release = filepath.Join(h.dir, "release")
	h.s.agent.AgentPath = fakeAgent(t, h.dir, h.calls, `while [ ! -e `+release+` ]; do sleep 0.05; done; `+metadataAgent)
	runDir = filepath.Join(h.dir, "jobs", "run")
	if err := agentrun.RunDir(runDir); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		files := agentrun.Files{Base: filepath.Join(runDir, id+"-0-0")}
		p, err := h.s.agent.Start(context.Background(), files, map[string]any{"action": "backup"})
		if err != nil {
			t.Fatal(err)
		}
		go p.Wait()
		if err := writeRecord(runDir, id, runRecord{JobID: id, Pid: p.Pid(), Base: files.Base, SoFar: "success"}); err != nil {
			t.Fatal(err)
		}
		h.api.put(backupJob(id, apiv2.JobSchedule{Status: apiv2.StatusRunning, CurrentPID: p.Pid(), TimeStarted: t0.Unix() - 60, TimeEnded: -1}))
	}
	return release, runDir
}
