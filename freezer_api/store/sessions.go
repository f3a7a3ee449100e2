package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// sessionRow is a session: schedule and the jobs map are JSON; the state
// machine's fields are columns.
type sessionRow struct {
	Seq         int64          `db:"seq"`
	ID          string         `db:"id"`
	ProjectID   string         `db:"project_id"`
	UserID      string         `db:"user_id"`
	Description string         `db:"description"`
	SessionTag  int            `db:"session_tag"`
	HoldOff     int            `db:"hold_off"`
	Status      string         `db:"status"`
	Result      sql.NullString `db:"result"` // NULL: never set
	TimeStart   int64          `db:"time_start"`
	TimeEnd     int64          `db:"time_end"`
	TimeStarted int64          `db:"time_started"`
	TimeEnded   int64          `db:"time_ended"`
	Schedule    string         `db:"schedule"`
	Jobs        string         `db:"jobs"`
	Version     int            `db:"version"`
	CreatedAt   int64          `db:"created_at"`
	UpdatedAt   int64          `db:"updated_at"`
}

func (r sessionRow) doc() (apiv2.Session, error) {
	d := apiv2.Session{SessionID: r.ID, ProjectID: r.ProjectID, UserID: r.UserID, Description: r.Description,
		SessionTag: r.SessionTag, HoldOff: r.HoldOff, Status: r.Status,
		TimeStart: r.TimeStart, TimeEnd: r.TimeEnd, TimeStarted: r.TimeStarted, TimeEnded: r.TimeEnded,
		Jobs: map[string]apiv2.SessionJob{}}
	if err := json.Unmarshal([]byte(r.Schedule), &d.Schedule); err != nil {
		return d, fmt.Errorf("decoding schedule of session %s: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Jobs), &d.Jobs); err != nil {
		return d, fmt.Errorf("decoding jobs of session %s: %w", r.ID, err)
	}
	if d.Jobs == nil {
		d.Jobs = map[string]apiv2.SessionJob{}
	}
	if r.Result.Valid {
		d.Result = &r.Result.String
	}
	return d, nil
}

// sessionIndexDoc is the document the search index sees: a session
// without result, or whose schedule lacks event, status or result, is
// indexed with them empty, as every session was when answers always had
// them, so that searches on them answer as before.
func sessionIndexDoc(d apiv2.Session) apiv2.Session {
	d.Schedule = d.Schedule.KeepStateKeys()
	if d.Result == nil {
		empty := ""
		d.Result = &empty
	}
	return d
}

func (r *sessionRow) setDoc(d apiv2.Session) {
	if d.Jobs == nil {
		d.Jobs = map[string]apiv2.SessionJob{}
	}
	sb, _ := json.Marshal(d.Schedule)
	jb, _ := json.Marshal(d.Jobs)
	r.Description, r.SessionTag, r.HoldOff, r.Status = d.Description, d.SessionTag, d.HoldOff, d.Status
	r.Result = sql.NullString{}
	if d.Result != nil {
		r.Result = sql.NullString{String: *d.Result, Valid: true}
	}
	r.TimeStart, r.TimeEnd, r.TimeStarted, r.TimeEnded = d.TimeStart, d.TimeEnd, d.TimeStarted, d.TimeEnded
	r.Schedule, r.Jobs = string(sb), string(jb)
}

func applySessionPatch(d *apiv2.Session, p apiv2.SessionPatch) {
	if p.Description != nil {
		d.Description = *p.Description
	}
	if p.SessionTag != nil {
		d.SessionTag = *p.SessionTag
	}
	if p.HoldOff != nil {
		d.HoldOff = *p.HoldOff
	}
	if p.Status != nil {
		d.Status = *p.Status
	}
	if p.Result != nil {
		res := *p.Result
		d.Result = &res
	}
	if p.TimeStart != nil {
		d.TimeStart = *p.TimeStart
	}
	if p.TimeEnd != nil {
		d.TimeEnd = *p.TimeEnd
	}
	if p.TimeStarted != nil {
		d.TimeStarted = *p.TimeStarted
	}
	if p.TimeEnded != nil {
		d.TimeEnded = *p.TimeEnded
	}
	if p.Schedule != nil {
		d.Schedule = *p.Schedule
	}
	for k, v := range p.Jobs {
		if d.Jobs == nil {
			d.Jobs = map[string]apiv2.SessionJob{}
		}
		d.Jobs[k] = v
	}
}

// NewSessionDoc is a session as CreateSession starts it: active, no jobs,
// hold_off 30 and every time -1.
func NewSessionDoc() apiv2.Session {
	return apiv2.Session{HoldOff: 30, Status: "active", TimeStart: -1, TimeEnd: -1, TimeStarted: -1, TimeEnded: -1,
		Jobs: map[string]apiv2.SessionJob{}}
}

func (s *Store) insertSession(ctx context.Context, tx *sqlx.Tx, sc Scope, id string, d apiv2.Session) (sessionRow, error) {
	now := s.now().Unix()
	r := sessionRow{ID: id, ProjectID: sc.ProjectID, UserID: sc.UserID, Version: 1, CreatedAt: now, UpdatedAt: now}
	r.setDoc(d)
	res, err := tx.NamedExecContext(ctx, `INSERT INTO sessions (id, project_id, user_id, description, session_tag, hold_off, status, result,
		time_start, time_end, time_started, time_ended, schedule, jobs, version, created_at, updated_at)
		VALUES (:id, :project_id, :user_id, :description, :session_tag, :hold_off, :status, :result,
		:time_start, :time_end, :time_started, :time_ended, :schedule, :jobs, :version, :created_at, :updated_at)`, r)
	if err != nil {
		if isDuplicate(err) {
			return r, errf(KindExists, "Session %s already exists", id)
		}
		return r, fmt.Errorf("inserting session: %w", err)
	}
	if r.Seq, err = res.LastInsertId(); err != nil {
		return r, fmt.Errorf("reading session seq: %w", err)
	}
	doc, err := r.doc()
	if err != nil {
		return r, err
	}
	return r, writeTerms(ctx, tx, "session_terms", r.Seq, sessionIndexDoc(doc))
}

func (s *Store) saveSession(ctx context.Context, tx *sqlx.Tx, r *sessionRow) error {
	r.Version++
	r.UpdatedAt = s.now().Unix()
	if _, err := tx.NamedExecContext(ctx, `UPDATE sessions SET user_id = :user_id, description = :description, session_tag = :session_tag,
		hold_off = :hold_off, status = :status, result = :result, time_start = :time_start, time_end = :time_end,
		time_started = :time_started, time_ended = :time_ended, schedule = :schedule, jobs = :jobs,
		version = :version, updated_at = :updated_at WHERE seq = :seq`, r); err != nil {
		return fmt.Errorf("updating session: %w", err)
	}
	doc, err := r.doc()
	if err != nil {
		return err
	}
	return writeTerms(ctx, tx, "session_terms", r.Seq, sessionIndexDoc(doc))
}

func (s *Store) getSessionRow(ctx context.Context, q sqlx.QueryerContext, projectID, id string, lock bool) (sessionRow, error) {
	var r sessionRow
	qs := "SELECT * FROM sessions WHERE project_id = ? AND id = ?"
	if lock {
		qs += s.forUpdate()
	}
	err := sqlx.GetContext(ctx, q, &r, qs, projectID, id)
	return r, err
}

func (s *Store) lockSession(ctx context.Context, tx *sqlx.Tx, sc Scope, id string) (sessionRow, apiv2.Session, error) {
	r, err := s.getSessionRow(ctx, tx, sc.ProjectID, id, true)
	if errors.Is(err, sql.ErrNoRows) {
		return r, apiv2.Session{}, errf(KindNotFound, "Session not found with ID %s", id)
	}
	if err != nil {
		return r, apiv2.Session{}, fmt.Errorf("reading session: %w", err)
	}
	d, err := r.doc()
	return r, d, err
}

// CreateSession stores a new session with a new id. Status is "active",
// jobs empty; absent hold_off is 30 and absent times -1.
func (s *Store) CreateSession(ctx context.Context, sc Scope, p apiv2.SessionPatch) (string, error) {
	id := s.newID()
	d := NewSessionDoc()
	p.Jobs, p.Status = nil, nil
	applySessionPatch(&d, p)
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		_, err := s.insertSession(ctx, tx, sc, id, d)
		return err
	})
	return id, err
}

// ReplaceSession sets the fields present on the session with that id,
// creating it if needed (POST /sessions/{id}, as upstream).
func (s *Store) ReplaceSession(ctx context.Context, sc Scope, id string, p apiv2.SessionPatch) (int, error) {
	var version int
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, d, err := s.lockSession(ctx, tx, sc, id)
		if KindOf(err) == KindNotFound {
			d = NewSessionDoc()
			applySessionPatch(&d, p)
			r, err = s.insertSession(ctx, tx, sc, id, d)
			version = r.Version
			return err
		}
		if err != nil {
			return err
		}
		applySessionPatch(&d, p)
		r.UserID = sc.UserID
		r.setDoc(d)
		if err := s.saveSession(ctx, tx, &r); err != nil {
			return err
		}
		version = r.Version
		return nil
	})
	return version, err
}

// PatchSession updates the fields present; jobs entries are merged.
func (s *Store) PatchSession(ctx context.Context, sc Scope, id string, p apiv2.SessionPatch) (int, error) {
	var version int
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, d, err := s.lockSession(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		applySessionPatch(&d, p)
		r.setDoc(d)
		if err := s.saveSession(ctx, tx, &r); err != nil {
			return err
		}
		version = r.Version
		return nil
	})
	return version, err
}

// GetSession returns one session of the project.
func (s *Store) GetSession(ctx context.Context, sc Scope, id string) (apiv2.Session, error) {
	r, err := s.getSessionRow(ctx, s.db, sc.ProjectID, id, false)
	if errors.Is(err, sql.ErrNoRows) {
		return apiv2.Session{}, errf(KindNotFound, "Session not found with ID %s", id)
	}
	if err != nil {
		return apiv2.Session{}, fmt.Errorf("reading session: %w", err)
	}
	return r.doc()
}

// ListSessions lists the project's sessions.
func (s *Store) ListSessions(ctx context.Context, sc Scope, f Filter, p Page) ([]apiv2.Session, error) {
	return listProjectDocs[sessionRow, apiv2.Session](ctx, s, "sessions", "session_terms", sc, f, p)
}

// DeleteSession removes a session; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, sc Scope, id string) error {
	return s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, err := s.getSessionRow(ctx, tx, sc.ProjectID, id, true)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading session: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE seq = ?", r.Seq); err != nil {
			return fmt.Errorf("deleting session: %w", err)
		}
		return deleteTerms(ctx, tx, "session_terms", r.Seq)
	})
}

// AddJobToSession links a job of the project to the session: the session
// records the job's client and state, and the job takes the session's id,
// tag and schedule (its time_created, status, event and result are kept).
func (s *Store) AddJobToSession(ctx context.Context, sc Scope, sessionID, jobID string) error {
	return s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, d, err := s.lockSession(ctx, tx, sc, sessionID)
		if err != nil {
			return err
		}
		jr, err := s.getJobRow(ctx, tx, sc.ProjectID, jobID, true)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(KindNotFound, "Job not found with ID %s", jobID)
		}
		if err != nil {
			return fmt.Errorf("reading job: %w", err)
		}
		js, err := jr.schedule()
		if err != nil {
			return err
		}
		d.Jobs[jobID] = apiv2.SessionJob{ClientID: jr.ClientID, Status: js.Status, Result: js.Result,
			TimeStarted: apiv2.FlexInt(js.TimeStarted), TimeEnded: apiv2.FlexInt(js.TimeEnded)}
		r.setDoc(d)
		if err := s.saveSession(ctx, tx, &r); err != nil {
			return err
		}
		ss := d.Schedule
		ss.TimeCreated, ss.TimeStarted, ss.TimeEnded, ss.CurrentPID = js.TimeCreated, js.TimeStarted, js.TimeEnded, js.CurrentPID
		ss = ss.WithStateOf(js)
		jr.SessionID, jr.SessionTag = sessionID, d.SessionTag
		jr.setSchedule(ss)
		return s.saveJob(ctx, tx, &jr)
	})
}

// RemoveJobFromSession unlinks a job: it leaves the session's jobs, and
// the job (if it still exists and belongs to the session) loses the session
// and gets a stop event. Removing a job that is not in the session is not
// an error.
func (s *Store) RemoveJobFromSession(ctx context.Context, sc Scope, sessionID, jobID string) error {
	return s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, d, err := s.lockSession(ctx, tx, sc, sessionID)
		if err != nil {
			return err
		}
		if _, ok := d.Jobs[jobID]; ok {
			delete(d.Jobs, jobID)
			r.setDoc(d)
			if err := s.saveSession(ctx, tx, &r); err != nil {
				return err
			}
		}
		jr, err := s.getJobRow(ctx, tx, sc.ProjectID, jobID, true)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading job: %w", err)
		}
		if jr.SessionID != sessionID {
			return nil
		}
		js, err := jr.schedule()
		if err != nil {
			return err
		}
		js.Event = apiv2.EventStop
		jr.SessionID, jr.SessionTag = "", 0
		jr.setSchedule(js)
		return s.saveJob(ctx, tx, &jr)
	})
}

// SessionStart runs the session's start state machine for one job and
// returns the result ("success", "hold-off", "out-of-sync") and the
// session tag after it.
func (s *Store) SessionStart(ctx context.Context, sc Scope, sessionID, jobID string, tag int) (string, int, error) {
	var result string
	var outTag int
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, d, err := s.lockSession(ctx, tx, sc, sessionID)
		if err != nil {
			return err
		}
		if tag > d.SessionTag {
			return errf(KindInvalid, "requested tag value too high. Session Tag: %d Job Tag: %d", d.SessionTag, tag)
		}
		job, ok := d.Jobs[jobID]
		if !ok {
			return errf(KindInvalid, "job_id not found in session")
		}
		now := s.now().Unix()
		since := now - d.TimeStart
		if d.TimeStart < 0 {
			since = now + 1
		}
		holdOff := int64(d.HoldOff)
		changed := false
		switch {
		case since <= holdOff && tag < d.SessionTag:
			result, changed = "success", true
		case since <= holdOff:
			result = "hold-off"
		case tag == d.SessionTag:
			d.SessionTag++
			empty := ""
			d.TimeStart, d.Status, d.Result = now, apiv2.StatusRunning, &empty
			result, changed = "success", true
		default:
			result = "out-of-sync"
		}
		outTag = d.SessionTag
		if !changed {
			return nil
		}
		job.Status, job.Result, job.TimeStarted = apiv2.StatusRunning, "", apiv2.FlexInt(now)
		d.Jobs[jobID] = job
		r.setDoc(d)
		return s.saveSession(ctx, tx, &r)
	})
	return result, outTag, err
}

// SessionEnd records the end of a job of the session; when every job has
// completed the session completes with "success" or "fail".
func (s *Store) SessionEnd(ctx context.Context, sc Scope, sessionID, jobID, jobResult string) (string, int, error) {
	var outTag int
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, d, err := s.lockSession(ctx, tx, sc, sessionID)
		if err != nil {
			return err
		}
		job, ok := d.Jobs[jobID]
		if !ok {
			return errf(KindInvalid, "job_id not found in session")
		}
		now := s.now().Unix()
		job.Status, job.Result, job.TimeEnded = apiv2.StatusCompleted, jobResult, apiv2.FlexInt(now)
		d.Jobs[jobID] = job
		overall := apiv2.ResultSuccess
		for _, j := range d.Jobs {
			if j.Status != apiv2.StatusCompleted {
				overall = apiv2.StatusRunning
				break
			}
			if j.Result != apiv2.ResultSuccess {
				overall = apiv2.ResultFail
			}
		}
		if d.Status != apiv2.StatusCompleted && overall != apiv2.StatusRunning {
			d.TimeEnd, d.Result, d.Status = now, &overall, apiv2.StatusCompleted
		}
		outTag = d.SessionTag
		r.setDoc(d)
		return s.saveSession(ctx, tx, &r)
	})
	return "success", outTag, err
}

// ImportSession creates the session as it is, with that id, unless the
// project has it; it reports whether it did.
func (s *Store) ImportSession(ctx context.Context, sc Scope, id string, d apiv2.Session) (bool, error) {
	created := false
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		if _, err := s.getSessionRow(ctx, tx, sc.ProjectID, id, false); err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err := s.insertSession(ctx, tx, sc, id, d)
		created = err == nil
		return err
	})
	return created, err
}
