package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/jmoiron/sqlx"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// actionRow is an action: actions.freezer_action holds the open-ended
// option set as JSON; freezer_action.action is copied to a column.
type actionRow struct {
	Seq                int64         `db:"seq"`
	ID                 string        `db:"id"`
	ProjectID          string        `db:"project_id"`
	UserID             string        `db:"user_id"`
	Action             string        `db:"action"`
	MaxRetries         sql.NullInt64 `db:"max_retries"`
	MaxRetriesInterval sql.NullInt64 `db:"max_retries_interval"`
	Mandatory          bool          `db:"mandatory"`
	FreezerAction      string        `db:"freezer_action"`
	Version            int           `db:"version"`
	CreatedAt          int64         `db:"created_at"`
	UpdatedAt          int64         `db:"updated_at"`
}

func (r actionRow) doc() (apiv2.Action, error) {
	fa, err := apiv2.ParseFreezerAction(r.FreezerAction)
	if err != nil {
		return apiv2.Action{}, fmt.Errorf("decoding action %s: %w", r.ID, err)
	}
	a := apiv2.Action{ActionID: r.ID, ProjectID: r.ProjectID, UserID: r.UserID, FreezerAction: fa}
	a.MaxRetries, a.MaxRetriesInterval, a.Mandatory = r.options()
	return a, nil
}

// jobDoc is the action as a job's job_actions answers it: the
// freezer_action as stored, and only the options that were given
// (mandatory only when true: the column cannot tell false from absent).
// Upstream answers a job's actions from the job document, as stored, and
// its scheduler has its own defaults (no retry) for absent options.
func (r actionRow) jobDoc() (apiv2.Action, error) {
	fa, err := apiv2.ParseStoredFreezerAction(r.FreezerAction)
	if err != nil {
		return apiv2.Action{}, fmt.Errorf("decoding action %s: %w", r.ID, err)
	}
	a := apiv2.Action{ActionID: r.ID, ProjectID: r.ProjectID, UserID: r.UserID, FreezerAction: fa}
	a.MaxRetries, a.MaxRetriesInterval, a.Mandatory = r.jobOptions()
	return a, nil
}

// jobOptions is options as a job's actions show them.
func (r actionRow) jobOptions() (maxRetries, maxRetriesInterval *int, mandatory *bool) {
	maxRetries, maxRetriesInterval, mandatory = r.options()
	if !*mandatory {
		mandatory = nil
	}
	return maxRetries, maxRetriesInterval, mandatory
}

// options returns the action's optional fields as a document has them.
func (r actionRow) options() (maxRetries, maxRetriesInterval *int, mandatory *bool) {
	if r.MaxRetries.Valid {
		v := int(r.MaxRetries.Int64)
		maxRetries = &v
	}
	if r.MaxRetriesInterval.Valid {
		v := int(r.MaxRetriesInterval.Int64)
		maxRetriesInterval = &v
	}
	m := r.Mandatory
	return maxRetries, maxRetriesInterval, &m
}

// sameFreezerAction compares two option sets, ignoring null values (a GET
// document carries injected nulls a client may post back) and upstream's
// ignored keys.
func sameFreezerAction(a, b apiv2.FreezerAction) bool {
	clean := func(m apiv2.FreezerAction) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			if v == nil || k == "_version" || k == "user_id" {
				continue
			}
			out[k] = normalize(v)
		}
		return out
	}
	ca, cb := clean(a), clean(b)
	if len(ca) != len(cb) {
		return false
	}
	for k, v := range ca {
		w, ok := cb[k]
		if !ok || canonical(v) != canonical(w) {
			if !ok || !reflect.DeepEqual(v, w) {
				return false
			}
		}
	}
	return true
}

// storedFreezerAction drops null values: they carry no option and are
// re-injected on output.
func storedFreezerAction(fa apiv2.FreezerAction) string {
	m := map[string]any{}
	for k, v := range fa {
		if v != nil {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// insertAction inserts a new action row with the given id.
func (s *Store) insertAction(ctx context.Context, tx *sqlx.Tx, sc Scope, id string, a apiv2.Action) (actionRow, error) {
	now := s.now().Unix()
	r := actionRow{ID: id, ProjectID: sc.ProjectID, UserID: sc.UserID, Action: a.FreezerAction.Action(),
		FreezerAction: storedFreezerAction(a.FreezerAction), Version: 1, CreatedAt: now, UpdatedAt: now}
	// Absent options stay NULL: no defaults are stored (a scheduler has
	// its own, no retry), so answers carry what was sent.
	r.MaxRetries, r.MaxRetriesInterval = nullInt(a.MaxRetries), nullInt(a.MaxRetriesInterval)
	if a.Mandatory != nil {
		r.Mandatory = *a.Mandatory
	}
	res, err := tx.NamedExecContext(ctx, `INSERT INTO actions (id, project_id, user_id, action, max_retries, max_retries_interval, mandatory, freezer_action, version, created_at, updated_at)
		VALUES (:id, :project_id, :user_id, :action, :max_retries, :max_retries_interval, :mandatory, :freezer_action, :version, :created_at, :updated_at)`, r)
	if err != nil {
		if isDuplicate(err) {
			return r, errf(KindExists, "Action %s already exists", id)
		}
		return r, fmt.Errorf("inserting action: %w", err)
	}
	if r.Seq, err = res.LastInsertId(); err != nil {
		return r, fmt.Errorf("reading action seq: %w", err)
	}
	d, err := r.doc()
	if err != nil {
		return r, err
	}
	return r, writeTerms(ctx, tx, "action_terms", r.Seq, d)
}

func (s *Store) getActionRow(ctx context.Context, q sqlx.QueryerContext, projectID, id string, lock bool) (actionRow, error) {
	var r actionRow
	qs := "SELECT * FROM actions WHERE project_id = ? AND id = ?"
	if lock {
		qs += s.forUpdate()
	}
	err := sqlx.GetContext(ctx, q, &r, qs, projectID, id)
	return r, err
}

// CreateAction stores a new action; a.ActionID, if set, is its id
// (KindExists if the project already has it).
func (s *Store) CreateAction(ctx context.Context, sc Scope, a apiv2.Action) (string, error) {
	id := a.ActionID
	if id == "" {
		id = s.newID()
	}
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		_, err := s.insertAction(ctx, tx, sc, id, a)
		return err
	})
	return id, err
}

// GetAction returns one action of the project.
func (s *Store) GetAction(ctx context.Context, sc Scope, id string) (apiv2.Action, error) {
	r, err := s.getActionRow(ctx, s.db, sc.ProjectID, id, false)
	if errors.Is(err, sql.ErrNoRows) {
		return apiv2.Action{}, errf(KindNotFound, "Action not found with ID %s", id)
	}
	if err != nil {
		return apiv2.Action{}, fmt.Errorf("reading action: %w", err)
	}
	return r.doc()
}

// ListActions lists the project's actions.
func (s *Store) ListActions(ctx context.Context, sc Scope, f Filter, p Page) ([]apiv2.Action, error) {
	return listProjectDocs[actionRow, apiv2.Action](ctx, s, "actions", "action_terms", sc, f, p)
}

// PatchAction updates the fields present in the patch: freezer_action
// keys are merged into the stored option set; absent fields keep their
// value.
func (s *Store) PatchAction(ctx context.Context, sc Scope, id string, p apiv2.ActionPatch) (int, error) {
	var version int
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, err := s.getActionRow(ctx, tx, sc.ProjectID, id, true)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(KindNotFound, "Action not found with ID %s", id)
		}
		if err != nil {
			return fmt.Errorf("reading action: %w", err)
		}
		if p.FreezerAction != nil {
			// Merged key by key, as upstream does: a client may send only
			// the options it changes; a null removes one.
			fa, err := apiv2.ParseStoredFreezerAction(r.FreezerAction)
			if err != nil {
				return fmt.Errorf("decoding action %s: %w", id, err)
			}
			for k, v := range p.FreezerAction {
				fa[k] = v
			}
			if fa.Action() == "" {
				return errf(KindInvalid, "'action' is a required property")
			}
			r.FreezerAction = storedFreezerAction(fa)
			r.Action = fa.Action()
		}
		if p.MaxRetries != nil {
			r.MaxRetries = sql.NullInt64{Int64: int64(*p.MaxRetries), Valid: true}
		}
		if p.MaxRetriesInterval != nil {
			r.MaxRetriesInterval = sql.NullInt64{Int64: int64(*p.MaxRetriesInterval), Valid: true}
		}
		if p.Mandatory != nil {
			r.Mandatory = *p.Mandatory
		}
		if err := s.saveAction(ctx, tx, &r); err != nil {
			return err
		}
		version = r.Version
		return nil
	})
	return version, err
}

// ReplaceAction creates the action with that id or replaces it wholesale.
func (s *Store) ReplaceAction(ctx context.Context, sc Scope, id string, a apiv2.Action) (int, error) {
	var version int
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, err := s.getActionRow(ctx, tx, sc.ProjectID, id, true)
		if errors.Is(err, sql.ErrNoRows) {
			r, err = s.insertAction(ctx, tx, sc, id, a)
			version = r.Version
			return err
		}
		if err != nil {
			return fmt.Errorf("reading action: %w", err)
		}
		r.UserID = sc.UserID
		r.FreezerAction = storedFreezerAction(a.FreezerAction)
		r.Action = a.FreezerAction.Action()
		r.MaxRetries, r.MaxRetriesInterval = nullInt(a.MaxRetries), nullInt(a.MaxRetriesInterval)
		r.Mandatory = false
		if a.Mandatory != nil {
			r.Mandatory = *a.Mandatory
		}
		if err := s.saveAction(ctx, tx, &r); err != nil {
			return err
		}
		version = r.Version
		return nil
	})
	return version, err
}

// saveAction writes a changed action and re-indexes it and the jobs that
// embed it.
func (s *Store) saveAction(ctx context.Context, tx *sqlx.Tx, r *actionRow) error {
	r.Version++
	r.UpdatedAt = s.now().Unix()
	if _, err := tx.NamedExecContext(ctx, `UPDATE actions SET user_id = :user_id, action = :action, max_retries = :max_retries,
		max_retries_interval = :max_retries_interval, mandatory = :mandatory, freezer_action = :freezer_action,
		version = :version, updated_at = :updated_at WHERE seq = :seq`, r); err != nil {
		return fmt.Errorf("updating action: %w", err)
	}
	d, err := r.doc()
	if err != nil {
		return err
	}
	if err := writeTerms(ctx, tx, "action_terms", r.Seq, d); err != nil {
		return err
	}
	return s.reindexJobsOfAction(ctx, tx, r.Seq)
}

// DeleteAction removes the action and takes it out of every job's action
// list. A missing action is not an error.
func (s *Store) DeleteAction(ctx context.Context, sc Scope, id string) error {
	return s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		r, err := s.getActionRow(ctx, tx, sc.ProjectID, id, true)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading action: %w", err)
		}
		var jobSeqs []int64
		if err := tx.SelectContext(ctx, &jobSeqs, "SELECT DISTINCT job_seq FROM job_actions WHERE action_seq = ?", r.Seq); err != nil {
			return fmt.Errorf("finding jobs of action: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM job_actions WHERE action_seq = ?", r.Seq); err != nil {
			return fmt.Errorf("unlinking action from jobs: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM actions WHERE seq = ?", r.Seq); err != nil {
			return fmt.Errorf("deleting action: %w", err)
		}
		if err := deleteTerms(ctx, tx, "action_terms", r.Seq); err != nil {
			return err
		}
		for _, js := range jobSeqs {
			if err := s.renumberJobActions(ctx, tx, js); err != nil {
				return err
			}
			if err := s.reindexJob(ctx, tx, js); err != nil {
				return err
			}
		}
		return nil
	})
}

// ImportAction creates the action as it is, with that id, unless the
// project has it; it reports whether it did. (freezer-manage's import of
// an upstream database.)
func (s *Store) ImportAction(ctx context.Context, sc Scope, id string, a apiv2.Action) (bool, error) {
	created := false
	err := s.jobsTx(ctx, sc.ProjectID, func(tx *sqlx.Tx) error {
		_, err := s.getActionRow(ctx, tx, sc.ProjectID, id, false)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = s.insertAction(ctx, tx, sc, id, a)
		created = err == nil
		return err
	})
	return created, err
}

// nullInt is NULL for an absent option.
func nullInt(v *int) sql.NullInt64 {
	if v == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*v), Valid: true}
}
