package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_scheduler/agentrun"
	"freezer.dev/freezer/freezer_scheduler/schedule"
)

// runRecord is written to RunDir/<key>.json (key is the job's
// Scheduler.key) while an action runs, so that the next scheduler process
// can find the run after a crash or SIGKILL.
type runRecord struct {
	JobID      string `json:"job_id"`
	Pid        int    `json:"pid,omitempty"`
	Base       string `json:"base,omitempty"`
	Action     int    `json:"action"`
	Try        int    `json:"try"`
	SoFar      string `json:"result_so_far"`
	SessionID  string `json:"session_id,omitempty"`
	SessionTag int    `json:"session_tag,omitempty"`
	// Finished records a run whose final report could not be sent.
	Finished bool   `json:"finished,omitempty"`
	Status   string `json:"status,omitempty"`
}

func recordPath(dir, key string) string { return filepath.Join(dir, safeName(key)+".json") }

func writeRecord(dir, key string, r runRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	p := recordPath(dir, key)
	if err := os.WriteFile(p+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("writing run record: %w", err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		return fmt.Errorf("writing run record: %w", err)
	}
	return nil
}

func readRecord(dir, key string) (runRecord, error) {
	var r runRecord
	b, err := os.ReadFile(recordPath(dir, key))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("reading run record: %w", err)
	}
	return r, nil
}

func removeRecord(dir, key string) { os.Remove(recordPath(dir, key)) }

// reconcile handles a job the API says is running when this process sees it
// for the first time: a run of an earlier scheduler process. If that run's
// record is here, the scheduler re-attaches to it (the agent may still be
// running, or its outcome is in its files) and carries on with the job's
// remaining actions. Otherwise the run is lost: it is reported as failed.
// Either way the job is not started again from scratch, so a finished
// one-shot job never runs twice. Called with s.mu held.
func (s *Scheduler) reconcile(j *job) {
	now := s.clock.Now()
	js := j.sched()
	// The schedule decides what happens after the run. A one-shot job's
	// only run is the one being reconciled.
	tr, err := schedule.Parse(specOf(*js), now, s.cfg.Location)
	if err == nil && !schedule.IsOneShot(tr) {
		if next, ok := tr.Next(time.Time{}, now); ok {
			j.trigger, j.next, j.hasNext = tr, next, true
		}
	}
	rec, rerr := readRecord(s.cfg.RunDir, j.key)
	switch {
	case rerr == nil && rec.Finished:
		j.log.Info("reporting the outcome of a run that ended before the last restart")
		js.Result = rec.SoFar
		if js.TimeEnded <= 0 {
			js.TimeEnded = now.Unix()
		}
		s.settle(j)
		j.dirty = true
	case rerr == nil && rec.Pid > 0 && (js.CurrentPID == 0 || js.CurrentPID == rec.Pid):
		alive := agentrun.IsRun(rec.Pid, agentrun.Files{Base: rec.Base})
		j.log.WithField("agent_pid", rec.Pid).WithField("alive", alive).Info("re-attaching to the run of an earlier scheduler process")
		j.state = stRunning
		j.aborted = make(chan struct{})
		proc := agentrun.Adopt(rec.Pid, agentrun.Files{Base: rec.Base}, s.agent.AbortGrace)
		j.proc = proc
		if rec.SessionTag != 0 {
			j.doc.SessionTag = rec.SessionTag
		}
		started := time.Unix(js.TimeStarted, 0)
		// The agent is already running, so it holds a worker slot now,
		// before dispatch can hand that slot to a job that comes due. The
		// slot is only tried here: blocking with s.mu held would deadlock
		// with a run that needs s.mu to finish and free its slot.
		haveSlot := false
		select {
		case s.slots <- struct{}{}:
			haveSlot = true
		default:
		}
		s.runs.Add(1)
		go s.resume(j, rec, proc, started, haveSlot)
	default:
		j.log.WithField("agent_pid", js.CurrentPID).Warn("job was running in an earlier scheduler process and its run cannot be found; reporting it failed")
		js.Result = apiv2.ResultFail
		js.TimeEnded = now.Unix()
		s.settle(j)
		j.dirty = true
	}
}

// settle puts a reconciled job whose run is over into its post-run state.
func (s *Scheduler) settle(j *job) {
	js := j.sched()
	js.Event = ""
	if j.hasNext {
		j.state = stScheduled
		js.Status = apiv2.StatusScheduled
	} else {
		s.markCompleted(j)
	}
}

// resume finishes a re-attached run: wait for the agent, then continue the
// job's actions after it, and report. Like execute, it holds a worker slot
// for the whole run (concurrent_jobs); haveSlot says reconcile already took
// it, otherwise it waits for one first.
func (s *Scheduler) resume(j *job, rec runRecord, proc *agentrun.Process, started time.Time, haveSlot bool) {
	defer s.runs.Done()
	s.mu.Lock()
	ctx := s.runCtx
	aborted := j.aborted
	s.mu.Unlock()
	if ctx == nil {
		ctx = context.Background()
	}
	if !haveSlot {
		select {
		case s.slots <- struct{}{}:
		case <-aborted:
			// abortRun has already told the adopted agent to stop; wait
			// for it so that nothing of the run outlives its report.
			proc.Wait()
			proc.Files().Remove()
			s.finish(ctx, j, apiv2.ResultAborted, started, rec.SessionID != "" && s.api != nil, false)
			return
		}
	}
	defer func() { <-s.slots }()
	soFar := rec.SoFar
	if soFar == "" {
		soFar = apiv2.ResultSuccess
	}
	result := s.runActions(ctx, j, rec.Action, soFar, proc, rec.Try)
	s.finish(ctx, j, result, started, rec.SessionID != "" && s.api != nil, false)
}
