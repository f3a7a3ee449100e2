package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_scheduler/agentrun"
)

// fakeClock is a manual clock: time moves only when a test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// fakeAPI stands in for freezer-api in these state-machine tests (the
// client against the real server is tested in freezer_api/client). It
// keeps jobs, records every PATCH and backup, and answers session actions
// from a script.
type fakeAPI struct {
	mu         sync.Mutex
	jobs       map[string]apiv2.Job
	patches    map[string][]apiv2.JobSchedule
	backups    []apiv2.BackupMetadata
	registers  int
	registered apiv2.ClientInfo
	// sessionStarts is consumed one answer per start call; when empty,
	// start answers success with tag+1.
	sessionStarts []apiv2.SessionActionResult
	sessionEnds   []apiv2.SessionEnd
	startCalls    int
	session       apiv2.Session
	failPatches   int
	// patchGate, when set, is called before a PATCH is applied (outside
	// the lock), so a test can hold one back.
	patchGate func(id string, p apiv2.JobPatch)
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{jobs: map[string]apiv2.Job{}, patches: map[string][]apiv2.JobSchedule{}}
}

func (f *fakeAPI) RegisterClient(_ context.Context, info apiv2.ClientInfo) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registers++
	f.registered = info
	return f.registers > 1, nil
}

func (f *fakeAPI) ActiveJobs(_ context.Context, clientID string, _ bool) ([]apiv2.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id, j := range f.jobs {
		if j.ClientID == clientID && j.JobSchedule.Status != apiv2.StatusCompleted {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out []apiv2.Job
	for _, id := range ids {
		out = append(out, deepCopy(f.jobs[id]))
	}
	return out, nil
}

func deepCopy(j apiv2.Job) apiv2.Job {
	b, _ := json.Marshal(j)
	var out apiv2.Job
	_ = json.Unmarshal(b, &out)
	return out
}

func (f *fakeAPI) UpdateJob(_ context.Context, id string, p apiv2.JobPatch) error {
	if f.patchGate != nil {
		f.patchGate(id, p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPatches > 0 {
		f.failPatches--
		return fmt.Errorf("fake failure")
	}
	j, ok := f.jobs[id]
	if !ok {
		return fmt.Errorf("404")
	}
	if p.JobSchedule != nil {
		j.JobSchedule = *p.JobSchedule // replace semantics, as the API
		f.patches[id] = append(f.patches[id], *p.JobSchedule)
	}
	if p.SessionTag != nil {
		j.SessionTag = *p.SessionTag
	}
	f.jobs[id] = j
	return nil
}

func (f *fakeAPI) CreateBackup(_ context.Context, m apiv2.BackupMetadata) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backups = append(f.backups, m)
	return fmt.Sprintf("b%d", len(f.backups)), nil
}

func (f *fakeAPI) StartSession(_ context.Context, sid, jobID string, tag int) (apiv2.SessionActionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.startCalls++
	if len(f.sessionStarts) > 0 {
		r := f.sessionStarts[0]
		f.sessionStarts = f.sessionStarts[1:]
		return r, nil
	}
	return apiv2.SessionActionResult{Result: "success", SessionTag: tag + 1}, nil
}

func (f *fakeAPI) EndSession(_ context.Context, sid, jobID string, tag int, result string) (apiv2.SessionActionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessionEnds = append(f.sessionEnds, apiv2.SessionEnd{JobID: jobID, CurrentTag: apiv2.FlexInt(tag), Result: result})
	return apiv2.SessionActionResult{Result: "success", SessionTag: tag}, nil
}

func (f *fakeAPI) GetSession(context.Context, string) (*apiv2.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.session
	return &s, nil
}

func (f *fakeAPI) put(j apiv2.Job) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs[j.JobID] = j
}

func (f *fakeAPI) job(id string) apiv2.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	return deepCopy(f.jobs[id])
}

func (f *fakeAPI) setEvent(id, ev string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.jobs[id]
	j.JobSchedule.Event = ev
	f.jobs[id] = j
}

func (f *fakeAPI) patchList(id string) []apiv2.JobSchedule {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiv2.JobSchedule(nil), f.patches[id]...)
}

func (f *fakeAPI) backupList() []apiv2.BackupMetadata {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiv2.BackupMetadata(nil), f.backups...)
}

// harness wires a scheduler to a fake API, a fake clock and a shell script
// standing in for freezer-agent.
type harness struct {
	t      *testing.T
	api    *fakeAPI
	clock  *fakeClock
	s      *Scheduler
	dir    string
	calls  string // file the fake agent appends a line to per run
	cancel context.CancelFunc
	done   chan struct{}
}

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// fakeAgent writes a script that logs its run to calls and then runs body.
func fakeAgent(t *testing.T, dir, calls, body string) string {
	t.Helper()
	p := filepath.Join(dir, "fake-agent")
	script := "#!/bin/sh\necho run >> " + calls + "\n" + body + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func newHarness(t *testing.T, agentBody string, mod func(*Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, api: newFakeAPI(), clock: newFakeClock(t0), dir: dir, calls: filepath.Join(dir, "calls")}
	cfg := Config{ClientID: "p_node", Hostname: "node", Interval: time.Minute, JobsDir: filepath.Join(dir, "jobs"),
		Capabilities: DefaultCapabilities(), Location: time.UTC}
	if mod != nil {
		mod(&cfg)
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	if testing.Verbose() {
		l.SetOutput(os.Stderr)
	}
	runner := &agentrun.Runner{AgentPath: fakeAgent(t, dir, h.calls, agentBody), Env: []string{"PATH=/usr/bin:/bin"},
		AbortGrace: time.Second}
	s, err := New(cfg, Deps{API: h.api, Agent: runner, Clock: h.clock, Log: logrus.NewEntry(l)})
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan struct{})
	go func() {
		defer close(h.done)
		if err := h.s.Run(ctx); err != nil {
			h.t.Errorf("Run: %v", err)
		}
	}()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(15 * time.Second):
		h.t.Error("scheduler did not stop")
	}
	h.cancel = nil
}

// until advances the fake clock in steps until cond holds, giving the
// scheduler's goroutines and the agent processes real time to react.
func (h *harness) until(what string, step time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for: %s", what)
		}
		h.clock.Advance(step)
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) agentRuns() int {
	b, _ := os.ReadFile(h.calls)
	return strings.Count(string(b), "run\n")
}

func (h *harness) status(id string) (string, string) {
	js := h.api.job(id).JobSchedule
	return js.Status, js.Result
}

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

func backupJob(id string, sched apiv2.JobSchedule, actions ...apiv2.Action) apiv2.Job {
	if len(actions) == 0 {
		actions = []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": "backup", "mode": "fs",
			"path_to_backup": "/srv", "backup_name": "b1", "container": "c1", "storage": "swift"}}}
	}
	return apiv2.Job{JobID: id, ClientID: "p_node", JobSchedule: sched, JobActions: actions}
}
