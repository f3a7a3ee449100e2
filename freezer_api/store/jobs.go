package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// jobRow is a job. jobs.schedule holds the job_schedule JSON; its status
// and event are copied to columns, and the action list lives in
// job_actions (position → action), so that a scheduler's poll ("jobs of
// client X that are not completed") is an index lookup.
type jobRow struct {
	Seq             int64          `db:"seq"`
	ID              string         `db:"id"`
	ProjectID       string         `db:"project_id"`
	UserID          string         `db:"user_id"`
	ClientID        string         `db:"client_id"`
	Description     string         `db:"description"`
	SessionID       string         `db:"session_id"`
	SessionTag      int            `db:"session_tag"`
	Schedule        string         `db:"schedule"`
	Status          string         `db:"status"`
	Event           string         `db:"event"`
	UserCredentials sql.NullString `db:"user_credentials"`
	TrustID         string         `db:"trust_id"`
	Version         int            `db:"version"`
	CreatedAt       int64          `db:"created_at"`
	UpdatedAt       int64          `db:"updated_at"`
}

func (r jobRow) schedule() (apiv2.JobSchedule, error) {
	var js apiv2.JobSchedule
	if err := json.Unmarshal([]byte(r.Schedule), &js); err != nil {
		return js, fmt.Errorf("decoding schedule of job %s: %w", r.ID, err)
	}
	return js, nil
}

func (r *jobRow) setSchedule(js apiv2.JobSchedule) {
	b, _ := json.Marshal(js)
	r.Schedule, r.Status, r.Event = string(b), js.Status, js.Event
}

func (r *jobRow) setCredentials(uc *apiv2.UserCredentials) {
	if uc == nil {
		r.UserCredentials, r.TrustID = sql.NullString{}, ""
		return
	}
	b, _ := json.Marshal(uc)
	r.UserCredentials, r.TrustID = sql.NullString{String: string(b), Valid: true}, uc.TrustID
}

func (r jobRow) doc(actions []apiv2.Action) (apiv2.Job, error) {
	js, err := r.schedule()
	if err != nil {
		return apiv2.Job{}, err
	}
	if actions == nil {
		actions = []apiv2.Action{}
	}
	j := apiv2.Job{JobID: r.ID, ProjectID: r.ProjectID, UserID: r.UserID, ClientID: r.ClientID,
		Description: r.Description, SessionID: r.SessionID, SessionTag: r.SessionTag,
		JobSchedule: js, JobActions: actions}
	if r.UserCredentials.Valid && r.UserCredentials.String != "" {
		var uc apiv2.UserCredentials
		if err := json.Unmarshal([]byte(r.UserCredentials.String), &uc); err == nil {
			j.UserCredentials = &uc
		}
	}
	return j, nil
}

// jobActions loads the action lists of several jobs in one query.
func (s *Store) jobActions(ctx context.Context, q sqlx.QueryerContext, seqs []int64) (map[int64][]apiv2.Action, error) {
	out := map[int64][]apiv2.Action{}
	if len(seqs) == 0 {
		return out, nil
	}
	type row struct {
		JobSeq int64 `db:"job_seq"`
		actionRow
	}
	query, args, err := sqlx.In(`SELECT ja.job_seq, a.* FROM job_actions ja JOIN actions a ON a.seq = ja.action_seq
		WHERE ja.job_seq IN (?) ORDER BY ja.job_seq, ja.position`, seqs)
	if err != nil {
		return nil, fmt.Errorf("building job actions query: %w", err)
	}
	var rows []row
	if err := sqlx.SelectContext(ctx, q, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("loading job actions: %w", err)
	}
	for _, r := range rows {
		d, err := r.actionRow.jobDoc()
		if err != nil {
			return nil, err
		}
		out[r.JobSeq] = append(out[r.JobSeq], d)
	}
	return out, nil
}

func (s *Store) jobDocs(ctx context.Context, q sqlx.QueryerContext, rows []jobRow) ([]apiv2.Job, error) {
	seqs := make([]int64, len(rows))
	for i, r := range rows {
		seqs[i] = r.Seq
	}
	acts, err := s.jobActions(ctx, q, seqs)
	if err != nil {
		return nil, err
	}
	out := make([]apiv2.Job, 0, len(rows))
	for _, r := range rows {
		d, err := r.doc(acts[r.Seq])
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Store) getJobRow(ctx context.Context, q sqlx.QueryerContext, projectID, id string, lock bool) (jobRow, error) {
	var r jobRow
	qs := "SELECT * FROM jobs WHERE project_id = ? AND id = ?"
	if lock {
		qs += s.forUpdate()
	}
	err := sqlx.GetContext(ctx, q, &r, qs, projectID, id)
	return r, err
}

// resolveActions turns a job's action entries into action rows, creating
// the actions that do not exist yet:
//   - an entry with an action_id of the project and no freezer_action, or
//     with the same freezer_action, reuses that action;
//   - an entry with an action_id of the project but a different
//     freezer_action becomes a new action with a new id;
//   - an entry with an unknown action_id and a freezer_action becomes a new
//     action with that id; without a freezer_action it is an error;
//   - an entry without action_id becomes a new action.
func (s *Store) resolveActions(ctx context.Context, tx *sqlx.Tx, sc Scope, entries []apiv2.Action) ([]actionRow, error) {
	out := make([]actionRow, 0, len(entries))
	for _, e := range entries {
		if e.ActionID != "" {
			r, err := s.getActionRow(ctx, tx, sc.ProjectID, e.ActionID, false)
			switch {
			case err == nil:
				if e.FreezerAction == nil {
					out = append(out, r)
					continue
				}
				cur, err := r.doc()
				if err != nil {
					return nil, err
				}
				if sameFreezerAction(cur.FreezerAction, e.FreezerAction) {
					out = append(out, r)
					continue
				}
				e.ActionID = "" // changed: becomes a new action
			case errors.Is(err, sql.ErrNoRows):
				if e.FreezerAction == nil {
					return nil, errf(KindUnprocessable, "Action not found with ID %s", e.ActionID)
				}
			default:
				return nil, fmt.Errorf("reading action: %w", err)
			}
		}
		if e.FreezerAction == nil {
			return nil, errf(KindInvalid, "'freezer_action' is a required property")
		}
		id := e.ActionID
		if id == "" {
			id = s.newID()
		}
		r, err := s.insertAction(ctx, tx, sc, id, e)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// checkClient verifies that the job's client exists for the project (own
// or central) and supports every action's action, mode, storage and engine.
func (s *Store) checkClient(ctx context.Context, tx *sqlx.Tx, projectID, clientID string, actions []actionRow) error {
	cr, err := s.findClient(ctx, tx, projectID, clientID)
	if errors.Is(err, sql.ErrNoRows) {
		return errf(KindUnprocessable, "Client not found with ID %s", clientID)
	}
	if err != nil {
		return fmt.Errorf("reading client: %w", err)
	}
	c, err := cr.doc()
	if err != nil {
		return err
	}
	info := c.Client
	fillCapabilities(&info)
	for _, a := range actions {
		d, err := a.doc()
		if err != nil {
			return err
		}
		fa := d.FreezerAction
		for _, chk := range []struct {
			name, value string
			allowed     []string
		}{
			{"action", fa.Action(), info.SupportedActions},
			{"mode", fa.Mode(), info.SupportedModes},
			{"storage", fa.Storage(), info.SupportedStorages},
			{"engine", fa.Engine(), info.SupportedEngines},
		} {
			if chk.value != "" && !slices.Contains(chk.allowed, chk.value) {
				return errf(KindUnprocessable, "Client %s does not support %s: %s", clientID, chk.name, chk.value)
			}
		}
	}
	return nil
}

func (s *Store) setJobActions(ctx context.Context, tx *sqlx.Tx, jobSeq int64, actions []actionRow) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM job_actions WHERE job_seq = ?", jobSeq); err != nil {
		return fmt.Errorf("clearing job actions: %w", err)
	}
	for i, a := range actions {
		if _, err := tx.ExecContext(ctx, "INSERT INTO job_actions (job_seq, position, action_seq) VALUES (?, ?, ?)", jobSeq, i, a.Seq); err != nil {
			return fmt.Errorf("linking job action: %w", err)
		}
	}
	return nil
}

// renumberJobActions closes the gaps a deleted action leaves.
func (s *Store) renumberJobActions(ctx context.Context, tx *sqlx.Tx, jobSeq int64) error {
	var seqs []int64
	if err := tx.SelectContext(ctx, &seqs, "SELECT action_seq FROM job_actions WHERE job_seq = ? ORDER BY position", jobSeq); err != nil {
		return fmt.Errorf("reading job actions: %w", err)
	}
	rows := make([]actionRow, len(seqs))
	for i, sq := range seqs {
		rows[i].Seq = sq
	}
	return s.setJobActions(ctx, tx, jobSeq, rows)
}

// reindexJob recomputes a job's search terms from its current document.
func (s *Store) reindexJob(ctx context.Context, tx *sqlx.Tx, seq int64) error {
	var r jobRow
	if err := tx.GetContext(ctx, &r, "SELECT * FROM jobs WHERE seq = ?", seq); err != nil {
		return fmt.Errorf("reading job for indexing: %w", err)
	}
	docs, err := s.jobDocs(ctx, tx, []jobRow{r})
	if err != nil {
		return err
	}
	// A schedule without event, status or result is indexed with them
	// empty, as every job was when answers always had them: searches on
	// them (match_not status completed, match event "") answer as
	// before, and an action's option of the same name cannot take their
	// place (the shallowest key wins).
	docs[0].JobSchedule = docs[0].JobSchedule.KeepStateKeys()
	return writeTerms(ctx, tx, "job_terms", seq, docs[0])
}

func (s *Store) reindexJobsOfAction(ctx context.Context, tx *sqlx.Tx, actionSeq int64) error {
	var seqs []int64
	if err := tx.SelectContext(ctx, &seqs, "SELECT DISTINCT job_seq FROM job_actions WHERE action_seq = ?", actionSeq); err != nil {
		return fmt.Errorf("finding jobs of action: %w", err)
	}
	for _, js := range seqs {
		if err := s.reindexJob(ctx, tx, js); err != nil {
			return err
		}
	}
	return nil
}

// saveJob writes every column of a job row (bumping its version) and
// re-indexes it.
func (s *Store) saveJob(ctx context.Context, tx *sqlx.Tx, r *jobRow) error {
	r.Version++
	r.UpdatedAt = s.now().Unix()
	if _, err := tx.NamedExecContext(ctx, `UPDATE jobs SET user_id = :user_id, client_id = :client_id, description = :description,
		session_id = :session_id, session_tag = :session_tag, schedule = :schedule, status = :status, event = :event,
		user_credentials = :user_credentials, trust_id = :trust_id, version = :version, updated_at = :updated_at WHERE seq = :seq`, r); err != nil {
		return fmt.Errorf("updating job: %w", err)
	}
	return s.reindexJob(ctx, tx, r.Seq)
}

// CreateJob stores a new job (its id is j.JobID, or a new one), creating
// the actions its entries describe, all in one transaction. The client must
// exist and support the actions (KindUnprocessable); an existing id is
// KindExists. The schedule's time_created is set to now and
// time_started/time_ended to -1.
func (s *Store) CreateJob(ctx context.Context, sc Scope, j apiv2.Job) (string, error) {
	id := j.JobID
	if id == "" {
		id = s.newID()
	}
	j.JobSchedule.TimeCreated = s.now().Unix()
	j.JobSchedule.TimeStarted, j.JobSchedule.TimeEnded = -1, -1
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		if _, err := s.getJobRow(ctx, tx, sc.ProjectID, id, true); err == nil {
			return errf(KindExists, "Job %s already exists", id)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading job: %w", err)
		}
		_, err := s.insertJob(ctx, tx, sc, id, j)
		return err
	})
	return id, err
}

func (s *Store) insertJob(ctx context.Context, tx *sqlx.Tx, sc Scope, id string, j apiv2.Job) (jobRow, error) {
	acts, err := s.resolveActions(ctx, tx, sc, j.JobActions)
	if err != nil {
		return jobRow{}, err
	}
	if err := s.checkClient(ctx, tx, sc.ProjectID, j.ClientID, acts); err != nil {
		return jobRow{}, err
	}
	now := s.now().Unix()
	r := jobRow{ID: id, ProjectID: sc.ProjectID, UserID: sc.UserID, ClientID: j.ClientID, Description: j.Description,
		SessionID: j.SessionID, SessionTag: j.SessionTag, Version: 1, CreatedAt: now, UpdatedAt: now}
	r.setSchedule(j.JobSchedule)
	r.setCredentials(j.UserCredentials)
	res, err := tx.NamedExecContext(ctx, `INSERT INTO jobs (id, project_id, user_id, client_id, description, session_id, session_tag, schedule, status, event, user_credentials, trust_id, version, created_at, updated_at)
		VALUES (:id, :project_id, :user_id, :client_id, :description, :session_id, :session_tag, :schedule, :status, :event, :user_credentials, :trust_id, :version, :created_at, :updated_at)`, r)
	if err != nil {
		if isDuplicate(err) {
			return r, errf(KindExists, "Job %s already exists", id)
		}
		return r, fmt.Errorf("inserting job: %w", err)
	}
	if r.Seq, err = res.LastInsertId(); err != nil {
		return r, fmt.Errorf("reading job seq: %w", err)
	}
	if err := s.setJobActions(ctx, tx, r.Seq, acts); err != nil {
		return r, err
	}
	return r, s.reindexJob(ctx, tx, r.Seq)
}

// ReplaceJob creates the job with that id or replaces its content (POST
// /jobs/{id}). The schedule is stored as given.
func (s *Store) ReplaceJob(ctx context.Context, sc Scope, id string, j apiv2.Job) (int, error) {
	var version int
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, err := s.getJobRow(ctx, tx, sc.ProjectID, id, true)
		if errors.Is(err, sql.ErrNoRows) {
			r, err = s.insertJob(ctx, tx, sc, id, j)
			version = r.Version
			return err
		}
		if err != nil {
			return fmt.Errorf("reading job: %w", err)
		}
		acts, err := s.resolveActions(ctx, tx, sc, j.JobActions)
		if err != nil {
			return err
		}
		if err := s.checkClient(ctx, tx, sc.ProjectID, j.ClientID, acts); err != nil {
			return err
		}
		r.UserID, r.ClientID, r.Description = sc.UserID, j.ClientID, j.Description
		r.SessionID, r.SessionTag = j.SessionID, j.SessionTag
		r.setSchedule(j.JobSchedule)
		if j.UserCredentials != nil {
			r.setCredentials(j.UserCredentials)
		}
		if err := s.setJobActions(ctx, tx, r.Seq, acts); err != nil {
			return err
		}
		if err := s.saveJob(ctx, tx, &r); err != nil {
			return err
		}
		version = r.Version
		return nil
	})
	return version, err
}

// GetJob returns one job of the project.
func (s *Store) GetJob(ctx context.Context, sc Scope, id string) (apiv2.Job, error) {
	var rows []jobRow
	if err := s.db.SelectContext(ctx, &rows, "SELECT * FROM jobs WHERE project_id = ? AND id = ?", sc.ProjectID, id); err != nil {
		return apiv2.Job{}, fmt.Errorf("reading job: %w", err)
	}
	if len(rows) == 0 {
		return apiv2.Job{}, errf(KindNotFound, "Job not found with ID %s", id)
	}
	docs, err := s.jobDocs(ctx, s.db, rows)
	if err != nil {
		return apiv2.Job{}, err
	}
	return docs[0], nil
}

// ListJobs lists the jobs of a project, or of every project when
// projectID is "".
func (s *Store) ListJobs(ctx context.Context, projectID string, f Filter, p Page) ([]apiv2.Job, error) {
	tail, args := jobListTail(projectID, f, p)
	var rows []jobRow
	if err := s.db.SelectContext(ctx, &rows, "SELECT d.* FROM jobs d WHERE 1 = 1"+tail, args...); err != nil {
		return nil, fmt.Errorf("listing jobs: %w", err)
	}
	return s.jobDocs(ctx, s.db, rows)
}

// jobListTail is the condition, order and window of a job list.
func jobListTail(projectID string, f Filter, p Page) (string, []any) {
	w, args := f.where("job_terms", jobStatusColumns)
	ps, pargs := p.sql()
	var cond string
	var all []any
	if projectID != "" {
		cond = " AND d.project_id = ?"
		all = append(all, projectID)
	}
	return cond + w + ps, append(append(all, args...), pargs...)
}

// ReadJobs is ListJobs for an answer: the jobs as stored, read in one
// query (readJobs), for a JobRenderer.
func (s *Store) ReadJobs(ctx context.Context, projectID string, f Filter, p Page) ([]apiv2.StoredJob, error) {
	tail, args := jobListTail(projectID, f, p)
	jobs, err := s.readJobs(ctx, tail, args)
	if err != nil {
		return nil, fmt.Errorf("listing jobs: %w", err)
	}
	return jobs, nil
}

// jobGetTail restricts readJobs to one job of one project: a job get.
const jobGetTail = " AND d.project_id = ? AND d.id = ?"

// jobGetSizes are the lengths of the IN lists of ReadJobsByID's queries:
// a list of ids is padded (with its last id) to the next one, so that
// these few statements are all it prepares (the statement cache holds
// maxCachedStmts, first come); more ids are read in several queries.
var jobGetSizes = [...]int{8, 32, 100}

// ReadJobsByID returns the jobs of projectID with one of the ids, as
// stored, in seq order; ids that match none are left out. One id is the
// plain query of a get, with the database's own comparison (MariaDB's PAD
// SPACE collations match "x " to "x"); in a list of several, the caller
// finds each job by its exact id.
func (s *Store) ReadJobsByID(ctx context.Context, projectID string, ids []string) ([]apiv2.StoredJob, error) {
	if len(ids) == 1 {
		jobs, err := s.readJobs(ctx, jobGetTail, []any{projectID, ids[0]})
		if err != nil {
			return nil, fmt.Errorf("reading job: %w", err)
		}
		return jobs, nil
	}
	var out []apiv2.StoredJob
	for len(ids) > 0 {
		n := min(len(ids), jobGetSizes[len(jobGetSizes)-1])
		size := jobGetSizes[0]
		for _, sz := range jobGetSizes {
			if size = sz; sz >= n {
				break
			}
		}
		args := append(make([]any, 0, size+1), projectID)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		for len(args) < size+1 {
			args = append(args, ids[n-1])
		}
		ids = ids[n:]
		tail := " AND d.project_id = ? AND d.id IN (?" + strings.Repeat(", ?", size-1) + ")"
		jobs, err := s.readJobs(ctx, tail, args)
		if err != nil {
			return nil, fmt.Errorf("reading jobs: %w", err)
		}
		out = append(out, jobs...)
	}
	return out, nil
}

// jobReadColumns are the columns readJobs selects: what a view shows of
// the job (status and event are inside schedule), then one action (NULL
// for a job without actions). Versions and times are not shown, and every
// column less is less for MariaDB to send and for database/sql to convert
// in every list, get and poll.
const jobReadColumns = `d.seq, d.id, d.project_id, d.user_id, d.client_id, d.description, d.session_id,
	d.session_tag, d.schedule, d.user_credentials,
	ja.position, a.seq, a.id, a.project_id, a.user_id, a.max_retries, a.max_retries_interval, a.mandatory,
	a.freezer_action`

// readJobs returns the jobs matching "WHERE 1 = 1"+tail (conditions on
// jobs d, then ORDER BY / LIMIT) with their actions, in one query: the
// page of job seqs is a derived table joined to the jobs and their
// actions. A list or get is one round trip instead of three (jobs, their
// actions, central clients), which is most of its cost under load. The
// derived table holds only seq and the outer query has no ORDER BY, so
// MariaDB needs no temporary table of TEXT columns and no filesort; the
// order (jobs by seq, actions by position) is restored here.
func (s *Store) readJobs(ctx context.Context, tail string, args []any) ([]apiv2.StoredJob, error) {
	q := "SELECT " + jobReadColumns + " FROM (SELECT d.seq FROM jobs d WHERE 1 = 1" + tail + `) p
	JOIN jobs d ON d.seq = p.seq
	LEFT JOIN job_actions ja ON ja.job_seq = d.seq LEFT JOIN actions a ON a.seq = ja.action_seq`
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		order []int64
		jobs  = map[int64]*apiv2.StoredJob{}
	)
	// The columns are scanned into values reused for every row: they are
	// copied out below, and Scan's pointers make whatever they point into
	// escape to the heap.
	var j struct {
		Seq                                          int64
		ID, ProjectID, UserID, ClientID, Description string
		SessionID, Schedule                          string
		SessionTag                                   int
		Credentials                                  sql.NullString
	}
	var a struct {
		Pos, Seq                       sql.NullInt64
		ID, ProjectID, UserID, FA      sql.NullString
		MaxRetries, MaxRetriesInterval sql.NullInt64
		Mandatory                      sql.NullBool
	}
	for rows.Next() {
		if err := rows.Scan(&j.Seq, &j.ID, &j.ProjectID, &j.UserID, &j.ClientID, &j.Description, &j.SessionID,
			&j.SessionTag, &j.Schedule, &j.Credentials,
			&a.Pos,
			&a.Seq, &a.ID, &a.ProjectID, &a.UserID, &a.MaxRetries, &a.MaxRetriesInterval, &a.Mandatory,
			&a.FA); err != nil {
			return nil, err
		}
		if _, seen := jobs[j.Seq]; !seen {
			jobs[j.Seq] = &apiv2.StoredJob{JobID: j.ID, ProjectID: j.ProjectID, UserID: j.UserID,
				ClientID: j.ClientID, Description: j.Description, SessionID: j.SessionID, SessionTag: j.SessionTag,
				Schedule: j.Schedule, UserCredentials: j.Credentials.String}
			order = append(order, j.Seq)
		}
		if !a.Seq.Valid {
			continue
		}
		ar := actionRow{MaxRetries: a.MaxRetries, MaxRetriesInterval: a.MaxRetriesInterval, Mandatory: a.Mandatory.Bool}
		sa := apiv2.StoredAction{Position: a.Pos.Int64, ActionID: a.ID.String, ProjectID: a.ProjectID.String,
			UserID: a.UserID.String, FreezerAction: a.FA.String}
		sa.MaxRetries, sa.MaxRetriesInterval, sa.Mandatory = ar.jobOptions()
		sj := jobs[j.Seq]
		sj.Actions = append(sj.Actions, sa)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(order)
	out := make([]apiv2.StoredJob, len(order))
	for i, seq := range order {
		out[i] = *jobs[seq]
		slices.SortFunc(out[i].Actions, func(x, y apiv2.StoredAction) int { return cmp.Compare(x.Position, y.Position) })
	}
	return out, nil
}

// CentralElsewhere returns, of clientIDs, those that are a central client
// of another project while projectID has no client of that id: a job of
// projectID running there must not show that project its process id.
// Asked only for jobs that have one (few), instead of in every job read.
func (s *Store) CentralElsewhere(ctx context.Context, projectID string, clientIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(clientIDs) == 0 {
		return out, nil
	}
	q, args, err := sqlx.In(`SELECT DISTINCT c.client_id FROM clients c
		WHERE c.is_central = 1 AND c.client_id IN (?) AND c.project_id <> ?
		AND NOT EXISTS (SELECT 1 FROM clients o WHERE o.project_id = ? AND o.client_id = c.client_id)`,
		clientIDs, projectID, projectID)
	if err != nil {
		return nil, fmt.Errorf("building central client query: %w", err)
	}
	var ids []string
	if err := sqlx.SelectContext(ctx, s.db, &ids, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("looking up central clients: %w", err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// PatchJob updates the fields present in the patch. job_schedule replaces
// the stored schedule; job_actions replaces the action list; a change of
// client or actions is checked against the client's capabilities.
func (s *Store) PatchJob(ctx context.Context, sc Scope, id string, p apiv2.JobPatch) (int, error) {
	var version int
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, err := s.getJobRow(ctx, tx, sc.ProjectID, id, true)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(KindNotFound, "Job not found with ID %s", id)
		}
		if err != nil {
			return fmt.Errorf("reading job: %w", err)
		}
		if p.Description != nil {
			r.Description = *p.Description
		}
		if p.SessionID != nil {
			r.SessionID = *p.SessionID
		}
		if p.SessionTag != nil {
			r.SessionTag = *p.SessionTag
		}
		if p.JobSchedule != nil {
			r.setSchedule(*p.JobSchedule)
		}
		if p.ClientID != nil || p.JobActions != nil {
			if p.ClientID != nil {
				r.ClientID = *p.ClientID
			}
			var acts []actionRow
			if p.JobActions != nil {
				if acts, err = s.resolveActions(ctx, tx, sc, p.JobActions); err != nil {
					return err
				}
				if err := s.setJobActions(ctx, tx, r.Seq, acts); err != nil {
					return err
				}
			} else if err := tx.SelectContext(ctx, &acts, `SELECT a.* FROM job_actions ja JOIN actions a ON a.seq = ja.action_seq
				WHERE ja.job_seq = ? ORDER BY ja.position`, r.Seq); err != nil {
				return fmt.Errorf("reading job actions: %w", err)
			}
			if err := s.checkClient(ctx, tx, sc.ProjectID, r.ClientID, acts); err != nil {
				return err
			}
		}
		if err := s.saveJob(ctx, tx, &r); err != nil {
			return err
		}
		version = r.Version
		return nil
	})
	return version, err
}

// JobEvent records a start, stop or abort request for the scheduler and
// returns "success" or "<event> already requested".
func (s *Store) JobEvent(ctx context.Context, sc Scope, id, event string) (string, error) {
	var result string
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, err := s.getJobRow(ctx, tx, sc.ProjectID, id, true)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(KindNotFound, "Job not found with ID %s", id)
		}
		if err != nil {
			return fmt.Errorf("reading job: %w", err)
		}
		js, err := r.schedule()
		if err != nil {
			return err
		}
		if js.Event == event {
			result = event + " already requested"
			return nil
		}
		js.Event = event
		if event == apiv2.EventStart {
			// As upstream: a start clears status and result, which the
			// answer then shows empty.
			js.Status, js.Result = "", ""
			js = js.KeepStateKeys()
		}
		r.setSchedule(js)
		result = "success"
		return s.saveJob(ctx, tx, &r)
	})
	return result, err
}

// DeleteJob removes a job (its actions stay). A missing job is not an
// error. If the job held a trust that no other job uses, its id is
// returned so that the caller can delete it in Keystone.
func (s *Store) DeleteJob(ctx context.Context, sc Scope, id string) (string, error) {
	var orphan string
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		orphan = ""
		r, err := s.getJobRow(ctx, tx, sc.ProjectID, id, true)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading job: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM job_actions WHERE job_seq = ?", r.Seq); err != nil {
			return fmt.Errorf("deleting job actions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM jobs WHERE seq = ?", r.Seq); err != nil {
			return fmt.Errorf("deleting job: %w", err)
		}
		if r.TrustID != "" {
			var n int
			if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM jobs WHERE trust_id = ?", r.TrustID); err != nil {
				return fmt.Errorf("counting jobs of trust: %w", err)
			}
			if n == 0 {
				orphan = r.TrustID
			}
		}
		return deleteTerms(ctx, tx, "job_terms", r.Seq)
	})
	return orphan, err
}

// ImportJob creates the job as it was, with that id, unless the project
// has it, and reports whether it did: without the client checks of the
// API (its client may have been deleted since); an action entry with an
// action_id of the project is that action, one with a freezer_action a
// new action, and a reference to an action that no longer exists is
// dropped.
func (s *Store) ImportJob(ctx context.Context, sc Scope, id string, j apiv2.Job) (bool, error) {
	created := false
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		if _, err := s.getJobRow(ctx, tx, sc.ProjectID, id, false); err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var acts []actionRow
		for _, e := range j.JobActions {
			if e.ActionID != "" {
				if r, err := s.getActionRow(ctx, tx, sc.ProjectID, e.ActionID, false); err == nil {
					acts = append(acts, r)
					continue
				}
			}
			if e.FreezerAction == nil {
				continue // a reference to an action that no longer exists
			}
			aid := e.ActionID
			if aid == "" {
				aid = s.newID()
			}
			r, err := s.insertAction(ctx, tx, sc, aid, e)
			if err != nil {
				return err
			}
			acts = append(acts, r)
		}
		now := s.now().Unix()
		r := jobRow{ID: id, ProjectID: sc.ProjectID, UserID: sc.UserID, ClientID: j.ClientID, Description: j.Description,
			SessionID: j.SessionID, SessionTag: j.SessionTag, Version: 1, CreatedAt: now, UpdatedAt: now}
		r.setSchedule(j.JobSchedule)
		r.setCredentials(j.UserCredentials)
		res, err := tx.NamedExecContext(ctx, `INSERT INTO jobs (id, project_id, user_id, client_id, description, session_id, session_tag, schedule, status, event, user_credentials, trust_id, version, created_at, updated_at)
			VALUES (:id, :project_id, :user_id, :client_id, :description, :session_id, :session_tag, :schedule, :status, :event, :user_credentials, :trust_id, :version, :created_at, :updated_at)`, r)
		if err != nil {
			return fmt.Errorf("inserting job: %w", err)
		}
		if r.Seq, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := s.setJobActions(ctx, tx, r.Seq, acts); err != nil {
			return err
		}
		created = true
		return s.reindexJob(ctx, tx, r.Seq)
	})
	return created, err
}
