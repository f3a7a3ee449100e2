package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_scheduler/agentrun"
)

// Upstream's defaults for an action without retry settings.
const (
	defaultMaxRetries         = 0
	defaultMaxRetriesInterval = 60 * time.Second
)

// timeNull is upstream's "not set" for job_schedule times.
const timeNull = -1

// startRun marks j as running (called with s.mu held, at dispatch).
func (s *Scheduler) startRun(j *job, _ time.Time) {
	j.state = stRunning
	j.pending = ""
	j.aborted = make(chan struct{})
}

func isAborted(ch chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// execute is one run of a job: wait for a worker slot, report "running",
// pass the session gate, run the actions, report the end.
func (s *Scheduler) execute(ctx context.Context, j *job) {
	defer s.runs.Done()
	s.mu.Lock()
	aborted := j.aborted
	s.mu.Unlock()
	select {
	case s.slots <- struct{}{}:
	case <-aborted:
		s.finish(ctx, j, apiv2.ResultAborted, s.clock.Now(), false, false)
		return
	}
	defer func() { <-s.slots }()

	started := s.clock.Now()
	s.mu.Lock()
	js := j.sched()
	js.Status, js.Result = apiv2.StatusRunning, ""
	js.TimeStarted, js.TimeEnded = started.Unix(), timeNull
	upd := j.snapshot()
	doc := j.doc
	disableExec := s.cfg.DisableExec
	s.mu.Unlock()
	j.log.Info("job running")
	s.metrics.JobStarted(doc.JobID)
	s.patch(ctx, upd)

	inSession := false
	result := apiv2.ResultSuccess
	if doc.SessionID != "" && s.api != nil {
		ok, res := s.sessionStart(ctx, j)
		inSession = true
		if !ok {
			result = res
			s.finish(ctx, j, result, started, inSession, false)
			return
		}
	}
	if disableExec && containsExec(doc) {
		j.log.Error("job failed: it contains an exec action and exec actions are disabled on this node (disable_exec)")
		s.finish(ctx, j, apiv2.ResultFail, started, inSession, false)
		return
	}
	result = s.runActions(ctx, j, 0, apiv2.ResultSuccess, nil, 0)
	s.finish(ctx, j, result, started, inSession, false)
}

func containsExec(d apiv2.Job) bool {
	for _, a := range d.JobActions {
		if a.FreezerAction.Action() == "exec" {
			return true
		}
	}
	return false
}

func mandatory(a apiv2.Action) bool {
	if a.Mandatory != nil && *a.Mandatory {
		return true
	}
	b, _ := a.FreezerAction.Bool("mandatory")
	return b
}

// runActions runs the job's actions from index from on. An action runs if
// it is mandatory or every action so far succeeded; an abort ends the run.
// adopted, when set, is the already running attempt try of action from.
func (s *Scheduler) runActions(ctx context.Context, j *job, from int, result string, adopted *agentrun.Process, try int) string {
	s.mu.Lock()
	actions := j.doc.JobActions
	aborted := j.aborted
	s.mu.Unlock()
	for i := from; i < len(actions); i++ {
		if isAborted(aborted) {
			return apiv2.ResultAborted
		}
		a := actions[i]
		if !(mandatory(a) || result == apiv2.ResultSuccess) {
			j.log.WithField("action", a.FreezerAction.Action()).Warn("skipping action: an earlier action failed")
			continue
		}
		r := s.runAction(ctx, j, i, a, result, adopted, try)
		adopted, try = nil, 0
		if r == apiv2.ResultFail || r == apiv2.ResultAborted {
			result = r
		}
		if r == apiv2.ResultAborted {
			break
		}
	}
	return result
}

// runAction runs one action with its retries: max_retries more attempts
// after a failure, max_retries_interval apart.
func (s *Scheduler) runAction(ctx context.Context, j *job, idx int, a apiv2.Action, soFar string, adopted *agentrun.Process, firstTry int) string {
	maxRetries := defaultMaxRetries
	if a.MaxRetries != nil && *a.MaxRetries > 0 {
		maxRetries = *a.MaxRetries
	}
	interval := defaultMaxRetriesInterval
	if a.MaxRetriesInterval != nil && *a.MaxRetriesInterval >= 0 {
		interval = time.Duration(*a.MaxRetriesInterval) * time.Second
	}
	name := a.FreezerAction.Action()
	log := j.log.WithField("action", name)
	s.mu.Lock()
	aborted := j.aborted
	jobID, key := j.doc.JobID, j.key
	creds := j.doc.UserCredentials
	s.mu.Unlock()

	for try := firstTry; try <= maxRetries; try++ {
		p := adopted
		adopted = nil
		if p == nil {
			action := map[string]any{}
			for k, v := range a.FreezerAction {
				action[k] = v
			}
			if creds != nil && creds.TrustID != "" {
				action["os_trust_id"] = creds.TrustID
			}
			files := agentrun.Files{Base: filepath.Join(s.cfg.RunDir, safeName(key)+"-"+strconv.Itoa(idx)+"-"+strconv.Itoa(try))}
			env := s.agent.Env
			if creds != nil && creds.TrustID != "" {
				env = trustEnv(env, creds.TrustID)
			}
			var err error
			p, err = s.agent.StartEnv(context.Background(), files, action, env)
			if err != nil {
				log.WithError(err).Error("unable to start the agent")
				if !s.retryWait(log, try, maxRetries, interval, aborted) {
					return s.abortedOr(aborted, apiv2.ResultFail)
				}
				continue
			}
			s.mu.Lock()
			j.proc = p
			j.sched().CurrentPID = p.Pid()
			upd := j.snapshot()
			sid, tag := j.doc.SessionID, j.doc.SessionTag
			s.mu.Unlock()
			if err := writeRecord(s.cfg.RunDir, key, runRecord{JobID: jobID, Pid: p.Pid(), Base: files.Base, Action: idx,
				Try: try, SoFar: soFar, SessionID: sid, SessionTag: tag}); err != nil {
				log.WithError(err).Warn("unable to write the run record; a restart could not re-attach to this run")
			}
			if isAborted(aborted) {
				p.Abort()
			}
			log.WithField("agent_pid", p.Pid()).WithField("try", try+1).Info("agent started")
			s.patch(ctx, upd)
		}
		res := p.Wait()
		s.mu.Lock()
		j.proc = nil
		s.mu.Unlock()
		if res.Success() {
			if name == "backup" || name == "" { // the agent defaults to backup
				s.uploadMetadata(ctx, j, res.Stdout)
			} else if len(res.Stdout) > 0 {
				// info prints its listing; only a backup makes a record.
				log.WithField("output", truncate(string(res.Stdout), 200)).Debug("agent output")
			}
			p.Files().Remove()
			log.Info("action succeeded")
			return apiv2.ResultSuccess
		}
		if !res.TimedOut && (res.Aborted || isAborted(aborted) || res.ExitCode == -int(syscall.SIGTERM)) {
			p.Files().Remove()
			log.Warn("agent aborted; clean up its leftovers (container, mount points, snapshots) if any")
			return apiv2.ResultAborted
		}
		msg := strings.TrimSpace(res.StderrTail)
		if res.Lost {
			msg = "the agent's exit status was lost (it was killed together with its wrapper)"
		}
		if res.TimedOut {
			msg = fmt.Sprintf("stopped after [scheduler] run_timeout (%s): %s", s.agent.MaxRun, msg)
		}
		log.WithField("exit_code", res.ExitCode).WithField("agent_error", msg).Error("agent failed")
		p.Files().Remove()
		if !s.retryWait(log, try, maxRetries, interval, aborted) {
			return s.abortedOr(aborted, apiv2.ResultFail)
		}
	}
	log.WithField("tries", maxRetries+1).Error("action failed after all tries")
	return apiv2.ResultFail
}

func (s *Scheduler) abortedOr(aborted chan struct{}, r string) string {
	if isAborted(aborted) {
		return apiv2.ResultAborted
	}
	return r
}

// retryWait sleeps before the next try; false means do not retry (no
// tries left, or aborted).
func (s *Scheduler) retryWait(log interface{ Warnf(string, ...any) }, try, maxRetries int, interval time.Duration, aborted chan struct{}) bool {
	if try >= maxRetries {
		return false
	}
	log.Warnf("retrying in %s (try %d of %d)", interval, try+2, maxRetries+1)
	select {
	case <-s.clock.After(interval):
		return true
	case <-aborted:
		return false
	}
}

func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, id)
}

// uploadMetadata posts the agent's --metadata-out JSON, with the job id
// added, to /backups.
func (s *Scheduler) uploadMetadata(ctx context.Context, j *job, out []byte) {
	if s.api == nil || len(strings.TrimSpace(string(out))) == 0 {
		return
	}
	var meta apiv2.BackupMetadata
	if err := json.Unmarshal(out, &meta); err != nil || len(meta) == 0 {
		j.log.WithField("output", truncate(string(out), 200)).Warn("agent output is not a metadata object; nothing uploaded")
		return
	}
	s.mu.Lock()
	meta["job_id"] = j.doc.JobID
	api := s.apiFor(j.doc)
	s.mu.Unlock()
	var err error
	for try := 0; try < 3; try++ {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		var id string
		id, err = api.CreateBackup(pctx, meta)
		cancel()
		if err == nil {
			j.log.WithField("backup_id", id).Info("backup metadata uploaded")
			return
		}
		<-s.clock.After(time.Duration(try+1) * time.Second)
	}
	j.log.WithError(err).Error("uploading backup metadata failed")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// finish ends a run: end the session with the result, then move the job to
// completed (one-shot, or stopped/aborted meanwhile), removed, or back to
// scheduled, and report it.
func (s *Scheduler) finish(ctx context.Context, j *job, result string, started time.Time, inSession, _ bool) {
	end := s.clock.Now()
	s.mu.Lock()
	js := j.sched()
	js.TimeEnded = end.Unix()
	js.Result = result
	sid := j.doc.SessionID
	s.mu.Unlock()
	if inSession {
		s.sessionEnd(ctx, j, sid, result)
	}
	s.mu.Lock()
	pending := j.pending
	j.pending, j.proc, j.aborted = "", nil, nil
	js.Event = ""
	gone := false
	switch {
	case pending == pendingGone:
		// Deleted from the API: there is nothing left to report to.
		s.unschedule(j)
		js.Status = apiv2.StatusRemoved
		j.removed = true
		delete(s.jobs, j.key)
		gone = true
	case pending == apiv2.EventRemove:
		// The job is still in the API, which must hear that the run
		// ended: left "running", the next poll would take it for a lost
		// run of an earlier process and report it failed. The job stays
		// known, like one removed while not running.
		s.unschedule(j)
		js.Status = apiv2.StatusRemoved
	case !j.hasNext:
		s.markCompleted(j)
	case pending == apiv2.EventStop || pending == apiv2.EventAbort:
		s.unschedule(j)
		js.Status = apiv2.StatusCompleted
	default:
		j.state = stScheduled
		js.Status = apiv2.StatusScheduled
	}
	upd := j.snapshot()
	jobID, key := j.doc.JobID, j.key
	s.mu.Unlock()
	j.log.WithField("result", result).WithField("status", upd.body.JobSchedule.Status).Info("job run finished")
	s.metrics.JobFinished(jobID, result, end.Sub(started), end)
	if !gone {
		s.patch(ctx, upd)
	}
	s.mu.Lock()
	dirty := j.dirty
	s.mu.Unlock()
	if dirty {
		// Keep a record of the outcome: a restart reports it instead of
		// treating the run as lost.
		_ = writeRecord(s.cfg.RunDir, key, runRecord{JobID: jobID, Finished: true, SoFar: result, Status: upd.body.JobSchedule.Status})
	} else {
		removeRecord(s.cfg.RunDir, key)
	}
	s.kick()
}

// sessionStart passes the session gate. It returns true when the job may
// run. "hold-off" (a run of the session started less than hold_off seconds
// ago and this job is already in step) is waited out, bounded by
// SessionWait; "out-of-sync" (the job is late past the hold-off) means the
// job does not run this time: its tag is brought in step for the next run.
func (s *Scheduler) sessionStart(ctx context.Context, j *job) (bool, string) {
	s.mu.Lock()
	sid, jobID, aborted := j.doc.SessionID, j.doc.JobID, j.aborted
	wait := s.cfg.SessionWait
	api := s.apiFor(j.doc)
	s.mu.Unlock()
	log := j.log.WithField("session_id", sid)
	deadline := s.clock.Now().Add(wait)
	backoff := time.Second
	fixedTag := false
	for {
		s.mu.Lock()
		tag := j.doc.SessionTag
		s.mu.Unlock()
		pause := backoff
		res, err := api.StartSession(ctx, sid, jobID, tag)
		switch {
		case err == nil && res.Result == apiv2.ResultSuccess:
			s.mu.Lock()
			j.doc.SessionTag = res.SessionTag
			s.mu.Unlock()
			log.WithField("session_tag", res.SessionTag).Info("session started")
			return true, ""
		case err == nil && res.Result == "out-of-sync":
			s.mu.Lock()
			j.doc.SessionTag = res.SessionTag
			s.mu.Unlock()
			log.WithField("session_tag", res.SessionTag).Warn("job is out of sync with its session (late past the hold-off); not running it this time")
			return false, apiv2.ResultFail
		case err == nil && res.Result == "hold-off":
			pause = s.holdOffLeft(ctx, api, sid, backoff)
			log.Infof("session in hold-off; retrying in %s", pause)
		case err != nil && !fixedTag && isStatus(err, 400):
			// Our tag is ahead of the session's (the session was reset):
			// take the session's tag once.
			fixedTag = true
			if sess, gerr := api.GetSession(ctx, sid); gerr == nil {
				s.mu.Lock()
				j.doc.SessionTag = sess.SessionTag
				s.mu.Unlock()
				continue
			}
		case err != nil:
			log.WithError(err).Warn("starting the session failed")
		default:
			log.Warnf("unexpected session start answer %q", res.Result)
		}
		if s.clock.Now().Add(pause).After(deadline) {
			log.Errorf("could not start the session within %s; not running the job", wait)
			return false, apiv2.ResultFail
		}
		select {
		case <-s.clock.After(pause):
		case <-aborted:
			return false, apiv2.ResultAborted
		}
		if backoff < 16*time.Second {
			backoff *= 2
		}
	}
}

// holdOffLeft is the time until the session's hold-off window closes, read
// from the session, or fallback when it cannot be read.
func (s *Scheduler) holdOffLeft(ctx context.Context, api API, sid string, fallback time.Duration) time.Duration {
	sess, err := api.GetSession(ctx, sid)
	if err != nil || sess.TimeStart <= 0 {
		return fallback
	}
	holdOff := sess.HoldOff
	if holdOff <= 0 {
		holdOff = 60
	}
	left := time.Unix(sess.TimeStart+int64(holdOff), 0).Sub(s.clock.Now()) + time.Second
	if left < time.Second {
		left = time.Second
	}
	return left
}

// sessionEnd reports the run's result to the session, retrying with a
// backoff for a bounded time: the session's result is computed from every
// member's report.
func (s *Scheduler) sessionEnd(ctx context.Context, j *job, sid, result string) {
	s.mu.Lock()
	jobID, tag := j.doc.JobID, j.doc.SessionTag
	api := s.apiFor(j.doc)
	s.mu.Unlock()
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	backoff := time.Second
	var err error
	for try := 0; try < 6; try++ {
		var res apiv2.SessionActionResult
		res, err = api.EndSession(ectx, sid, jobID, tag, result)
		if err == nil && res.Result == apiv2.ResultSuccess {
			j.log.WithField("session_id", sid).WithField("result", result).Info("session ended")
			return
		}
		if err == nil {
			err = fmt.Errorf("unexpected answer %q", res.Result)
		}
		select {
		case <-s.clock.After(backoff):
		case <-ectx.Done():
			try = 6
		}
		backoff *= 2
	}
	j.log.WithError(err).WithField("session_id", sid).Error("ending the session failed")
}

func isStatus(err error, code int) bool {
	var c interface{ StatusCode() int }
	return errors.As(err, &c) && c.StatusCode() == code
}

// trustEnv is the agent's environment for a job run through a Keystone
// trust: OS_TRUST_ID set and the project scoping removed, as upstream does.
func trustEnv(base []string, trustID string) []string {
	out := make([]string, 0, len(base)+1)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "OS_TRUST_ID", "OS_PROJECT_NAME", "OS_PROJECT_ID", "OS_PROJECT_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID", "OS_TENANT_NAME", "OS_TENANT_ID":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "OS_TRUST_ID="+trustID)
}
