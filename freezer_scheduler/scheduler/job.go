package scheduler

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_scheduler/agentrun"
	"freezer.dev/freezer/freezer_scheduler/schedule"
)

// state is where a job is in upstream's state machine.
type state int

const (
	stStopped   state = iota // not scheduled
	stScheduled              // waiting for its next fire time
	stRunning                // queued for a worker or running
)

func (s state) String() string {
	return [...]string{"stop", "scheduled", "running"}[s]
}

// pendingGone is the pending mark of a running job that the API stopped
// listing. It is not an API event: unlike event=remove, the job has no
// document left to report the run's end to.
const pendingGone = "gone"

// job is the scheduler's copy of one job. Every field is guarded by
// Scheduler.mu.
type job struct {
	// key names the job in Scheduler.jobs and in its files; see
	// Scheduler.key.
	key     string
	doc     apiv2.Job
	state   state
	trigger schedule.Trigger
	next    time.Time // the next fire time, when state == stScheduled and hasNext
	hasNext bool
	// pending is an event that arrived while the job was running (stop,
	// abort, remove), or pendingGone; it is acted on when the run ends.
	pending string
	// aborted is closed to abort the current run (agent, retry sleeps,
	// session waits).
	aborted chan struct{}
	proc    *agentrun.Process
	// dirty is set while the job's latest state may not have reached the
	// API (a PATCH failed and no newer one went through since); the next
	// poll sends the state again.
	dirty   bool
	removed bool
	// missed counts the consecutive polls the job was absent from; see
	// apply.
	missed int
	log    *logrus.Entry
	// PATCHes of one job go out one at a time and in the order their
	// bodies were taken (seq): the API keeps the last one it receives, so
	// an older state sent late would undo a newer one. sendMu is taken
	// before s.mu, never while holding it.
	sendMu    sync.Mutex
	seq, sent uint64
	// failedSeq is the newest body whose PATCH failed. sendMu orders the
	// sends but not who takes it first, so an older body can still go out
	// after a newer one failed; its success must not clear dirty.
	failedSeq uint64
}

func (j *job) sched() *apiv2.JobSchedule { return &j.doc.JobSchedule }

func specOf(js apiv2.JobSchedule) schedule.Spec {
	cron := map[string]string{
		"year": js.ScheduleYear, "month": js.ScheduleMonth, "day": js.ScheduleDay, "week": js.ScheduleWeek,
		"day_of_week": js.ScheduleDayOfWeek, "hour": js.ScheduleHour, "minute": js.ScheduleMinute, "second": js.ScheduleSecond,
	}
	return schedule.Spec{Date: js.ScheduleDate, Interval: js.ScheduleInterval,
		StartDate: js.ScheduleStartDate, EndDate: js.ScheduleEndDate, Cron: cron}
}

// snapshot returns the PATCH for the job's current state: the whole
// job_schedule (the API replaces it) plus the session fields. Called with
// s.mu held.
func (j *job) snapshot() pendingPatch {
	js := j.doc.JobSchedule
	sid, tag := j.doc.SessionID, j.doc.SessionTag
	j.seq++
	return pendingPatch{j: j, seq: j.seq, body: apiv2.JobPatch{JobSchedule: &js, SessionID: &sid, SessionTag: &tag}}
}

// apply runs the event state machine for every polled document and removes
// the jobs that disappeared from the API.
func (s *Scheduler) apply(ctx context.Context, docs []apiv2.Job) {
	seen := map[string]bool{}
	var patches []pendingPatch
	s.mu.Lock()
	for _, d := range docs {
		k := s.key(d)
		seen[k] = true
		j, ok := s.jobs[k]
		if !ok {
			j = s.newJob(d)
			if j == nil {
				continue
			}
			s.jobs[k] = j
		}
		j.missed = 0
		if j.pending == pendingGone {
			// Set when the job had gone missing; it is back.
			j.pending = ""
		}
		// Only this scheduler writes "running": a document that says so
		// while the job is not running here predates our last report
		// (a poll that crossed the end of a run); its event was already
		// handled.
		if !(ok && j.state != stRunning && d.JobSchedule.Status == apiv2.StatusRunning) {
			patches = append(patches, s.processEvent(j, d)...)
		}
		if j.dirty {
			patches = append(patches, j.snapshot())
		}
	}
	for id, j := range s.jobs {
		if seen[id] {
			continue
		}
		// One poll is not proof that the job is gone: the client pages
		// through the jobs by offset, so a job that completes between two
		// pages shifts the later ones and one of them is skipped. Dropping
		// it then would lose a running job's final report or re-create a
		// scheduled one (which may run again); a job still there shows up
		// in the next poll.
		j.missed++
		if j.missed < 2 {
			if j.state == stStopped {
				// The usual end of a job that ran once: the poll leaves
				// completed jobs out.
				j.log.Debug("job no longer listed; it is dropped if the next poll does not list it either")
			} else {
				j.log.Warn("job missing from the poll; it is dropped if the next poll does not list it either")
			}
			continue
		}
		// Gone from the API (deleted, or completed by someone else).
		switch j.state {
		case stRunning:
			j.pending = pendingGone
		default:
			s.unschedule(j)
			j.removed = true
			delete(s.jobs, id)
			j.log.Info("job removed")
		}
	}
	s.mu.Unlock()
	s.kick()
	for _, p := range patches {
		s.patch(ctx, p)
	}
}

type pendingPatch struct {
	j    *job
	seq  uint64
	body apiv2.JobPatch
}

// newJob creates the local job for a document seen for the first time.
// A document that says "running" is a run of an earlier scheduler process:
// it is reconciled, not started again.
func (s *Scheduler) newJob(d apiv2.Job) *job {
	log := s.log.WithField("job_id", d.JobID)
	if s.cfg.Centralized {
		log = log.WithField("project_id", d.ProjectID)
	}
	j := &job{key: s.key(d), doc: d, log: log}
	js := j.sched()
	if js.Status == apiv2.StatusRunning {
		s.reconcile(j)
		return j
	}
	switch {
	case js.Status == apiv2.StatusStop && js.Event == "":
		j.log.Info("job was stopped")
		js.Event = apiv2.EventStop
	case js.Status == apiv2.StatusRemoved && js.Event == "":
		// An event=remove handled before a restart: the API still lists
		// the job (it filters only completed ones), but it must not run
		// again until someone starts it. Upstream autostarts every status
		// but stop; it never writes "removed" to the API, this scheduler
		// does. The API already says removed: nothing to send.
		j.log.Info("job was removed")
	case js.Event == "":
		j.log.Info("job autostarted")
		js.Event = apiv2.EventStart
	}
	return j
}

// processEvent applies the event of the polled document d to j and returns
// the PATCHes to send. The transitions are upstream's StopState,
// ScheduledState and RunningState.
func (s *Scheduler) processEvent(j *job, d apiv2.Job) []pendingPatch {
	event := d.JobSchedule.Event
	if j.doc.JobSchedule.Event != "" && j.state == stStopped && j.trigger == nil {
		// A new job: its event was decided by newJob.
		event = j.doc.JobSchedule.Event
	}
	if event == "" {
		if j.state != stRunning && scheduleChanged(j.doc, d) {
			// Someone edited the schedule or the actions: take the new
			// document and schedule it again.
			j.log.Info("job document changed, rescheduling")
			s.takeDoc(j, d)
			if j.state == stScheduled {
				s.schedule(j)
				return []pendingPatch{j.snapshot()}
			}
		}
		return nil
	}
	var out []pendingPatch
	switch j.state {
	case stStopped:
		s.takeDoc(j, d)
		j.sched().Event = ""
		switch event {
		case apiv2.EventStart:
			j.log.Info("event start")
			s.schedule(j)
		case apiv2.EventStop, apiv2.EventAbort:
			j.log.Infof("event %s", event)
			j.sched().Status = apiv2.StatusStop
		case apiv2.EventRemove:
			s.unschedule(j)
			j.sched().Status = apiv2.StatusRemoved
		}
		out = append(out, j.snapshot())
	case stScheduled:
		switch event {
		case apiv2.EventStart:
			// Upstream only acknowledges the event; the schedule is
			// recomputed only if the document changed.
			changed := scheduleChanged(j.doc, d)
			s.takeDoc(j, d)
			j.sched().Event = ""
			if changed {
				s.schedule(j)
			}
		case apiv2.EventStop, apiv2.EventAbort:
			j.log.Infof("event %s", event)
			s.takeDoc(j, d)
			s.unschedule(j)
			j.sched().Status = apiv2.StatusStop
		case apiv2.EventRemove:
			s.takeDoc(j, d)
			s.unschedule(j)
			j.sched().Status = apiv2.StatusRemoved
		}
		out = append(out, j.snapshot())
	case stRunning:
		switch event {
		case apiv2.EventStart:
			j.sched().Event = ""
			out = append(out, j.snapshot())
		case apiv2.EventStop:
			if j.pending == "" {
				j.log.Info("event stop: the job stops after this run")
			}
			j.pending = apiv2.EventStop
		case apiv2.EventAbort:
			if j.pending != apiv2.EventAbort {
				j.log.Info("event abort: stopping the running agent")
				j.pending = apiv2.EventAbort
				j.sched().Event = apiv2.EventAbort
				s.abortRun(j)
			}
		case apiv2.EventRemove:
			j.pending = apiv2.EventRemove
			s.abortRun(j)
		}
	}
	return out
}

func (s *Scheduler) abortRun(j *job) {
	if j.aborted != nil {
		select {
		case <-j.aborted:
		default:
			close(j.aborted)
		}
	}
	if j.proc != nil {
		j.proc.Abort()
	}
}

// takeDoc replaces the job's document with a polled one, keeping the state
// fields this scheduler owns.
func (s *Scheduler) takeDoc(j *job, d apiv2.Job) {
	old := j.doc.JobSchedule
	j.doc = d
	js := j.sched()
	if js.Status == "" {
		js.Status = old.Status
	}
}

func scheduleChanged(a, b apiv2.Job) bool {
	sa, sb := specOf(a.JobSchedule), specOf(b.JobSchedule)
	return !reflect.DeepEqual(sa, sb) || !reflect.DeepEqual(a.JobActions, b.JobActions) ||
		a.SessionID != b.SessionID
}

// schedule computes the job's trigger and next fire time. A job that cannot
// be scheduled (bad schedule, end date passed) is "completed", as upstream.
func (s *Scheduler) schedule(j *job) {
	now := s.clock.Now()
	tr, err := schedule.Parse(specOf(j.doc.JobSchedule), now, s.cfg.Location)
	if err != nil {
		j.log.WithError(err).Error("unable to schedule job")
		s.markCompleted(j)
		return
	}
	next, ok := tr.Next(time.Time{}, now)
	if !ok {
		j.log.Warn("job has no future run (end date passed)")
		s.markCompleted(j)
		return
	}
	j.trigger, j.next, j.hasNext = tr, next, true
	j.state = stScheduled
	j.sched().Status = apiv2.StatusScheduled
	j.log.WithField("next_run", next.Format(time.RFC3339)).Info("job scheduled")
}

func (s *Scheduler) markCompleted(j *job) {
	j.trigger, j.hasNext = nil, false
	j.state = stStopped
	j.sched().Status = apiv2.StatusCompleted
}

func (s *Scheduler) unschedule(j *job) {
	j.trigger, j.hasNext = nil, false
	j.state = stStopped
	j.sched().Event = ""
	j.sched().Status = apiv2.StatusStop
}

// patch sends a job's state to the API, retrying briefly; if it still
// fails, the job is marked dirty and the next poll sends its state again.
// A body older than one already sent is dropped.
func (s *Scheduler) patch(ctx context.Context, p pendingPatch) {
	if s.api == nil {
		return
	}
	j := p.j
	j.sendMu.Lock()
	defer j.sendMu.Unlock()
	s.mu.Lock()
	api, jobID, stale := s.apiFor(j.doc), j.doc.JobID, p.seq <= j.sent
	s.mu.Unlock()
	if stale {
		return
	}
	var err error
	for try := 0; try < 3; try++ {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = api.UpdateJob(pctx, jobID, p.body)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-s.clock.After(time.Duration(try+1) * time.Second):
		case <-ctx.Done():
			try = 3
		}
	}
	s.mu.Lock()
	if err == nil {
		j.sent = max(j.sent, p.seq)
	} else {
		j.failedSeq = max(j.failedSeq, p.seq)
	}
	j.dirty = j.failedSeq > j.sent
	s.mu.Unlock()
	if err != nil {
		j.log.WithError(err).Error("job update failed; will retry at the next poll")
	}
}

// dispatchLoop fires due jobs until ctx is cancelled.
func (s *Scheduler) dispatchLoop(ctx context.Context) {
	for {
		wait := s.dispatchDue(ctx)
		select {
		case <-ctx.Done():
			s.shutdown()
			return
		case <-s.wake:
		case <-s.clock.After(wait):
		}
	}
}

// dispatchDue starts the runs that are due and returns how long to sleep
// until the next one (capped, so that a clock jump is noticed).
func (s *Scheduler) dispatchDue(ctx context.Context) time.Duration {
	now := s.clock.Now()
	wait := time.Minute
	var toRun []*job
	var patches []pendingPatch
	s.mu.Lock()
	for _, j := range s.jobs {
		if j.state != stScheduled && j.state != stRunning {
			continue
		}
		if !j.hasNext {
			continue
		}
		if now.Before(j.next) {
			if d := j.next.Sub(now); d < wait {
				wait = d
			}
			continue
		}
		run, fire, following, more := schedule.Due(j.trigger, j.next, now, s.cfg.MisfireGrace)
		j.next, j.hasNext = following, more
		switch {
		case j.state == stRunning:
			// max_instances = 1: a run that comes due while the job is
			// still running is skipped.
			j.log.WithField("fire_time", fire.Format(time.RFC3339)).Warn("run skipped: the job is still running")
		case !run:
			j.log.WithField("fire_time", fire.Format(time.RFC3339)).Warn("run skipped: missed by more than the misfire grace time")
			if !more {
				s.markCompleted(j)
				patches = append(patches, j.snapshot())
			}
		default:
			s.startRun(j, now)
			toRun = append(toRun, j)
		}
		if j.hasNext {
			if d := j.next.Sub(now); d < wait {
				wait = d
			}
		}
	}
	s.mu.Unlock()
	for _, p := range patches {
		s.patch(ctx, p)
	}
	for _, j := range toRun {
		s.runs.Add(1)
		go s.execute(ctx, j)
	}
	if wait < 0 {
		wait = 0
	}
	return wait
}

// shutdown aborts every run; Run waits for them to report.
func (s *Scheduler) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.state == stRunning {
			j.log.Info("scheduler stopping: aborting the run")
			s.abortRun(j)
		}
	}
}

// Jobs returns a copy of the known jobs' documents (for status and tests),
// by key: the job id, or in centralized mode "<job_id>@<project_id>".
func (s *Scheduler) Jobs() map[string]apiv2.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]apiv2.Job{}
	for id, j := range s.jobs {
		out[id] = j.doc
	}
	return out
}
