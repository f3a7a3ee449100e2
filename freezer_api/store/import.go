package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// ImportStats counts what ImportUpstream copied.
type ImportStats struct {
	Clients, Actions, Jobs, Sessions, Backups int
	Skipped                                   []string // why rows were left out
}

// ImportUpstream copies the resources of an upstream (Python) freezer-api
// database into this one, keeping ids, owners and documents, so operators
// can switch without losing jobs, clients, sessions or backup records. It
// reads the schema of Debian's 13.0 (actions inlined in jobs.job_actions)
// and of upstream master (job_actions and user_credentials tables,
// backups.status, clients capabilities). Soft-deleted rows are skipped;
// rows that already exist here are left alone, so it can run again.
func (s *Store) ImportUpstream(ctx context.Context, src *Store) (ImportStats, error) {
	var st ImportStats
	skip := func(format string, a ...any) { st.Skipped = append(st.Skipped, fmt.Sprintf(format, a...)) }
	tables, err := src.Tables(ctx)
	if err != nil {
		return st, err
	}
	has := map[string]bool{}
	for _, t := range tables {
		has[t] = true
	}
	for _, t := range []string{"clients", "actions", "jobs", "sessions", "backups"} {
		if !has[t] {
			return st, fmt.Errorf("source database has no %s table: is it a freezer-api database?", t)
		}
	}
	if has["freezer_schema_version"] {
		return st, fmt.Errorf("source database is a Go freezer-api database, not an upstream one")
	}

	clients, err := readUpstream(ctx, src, "clients")
	if err != nil {
		return st, err
	}
	for _, r := range clients {
		info := apiv2.ClientInfo{ClientID: r.str("client_id"), UUID: r.str("uuid"), Hostname: r.str("hostname"),
			Description: r.str("description"), IsCentral: r.boolean("is_central")}
		if info.UUID == "" {
			info.UUID = r.str("id")
		}
		for col, dst := range map[string]*[]string{"supported_actions": &info.SupportedActions, "supported_modes": &info.SupportedModes,
			"supported_storages": &info.SupportedStorages, "supported_engines": &info.SupportedEngines} {
			if v := r.str(col); v != "" {
				_ = json.Unmarshal([]byte(v), dst)
			}
		}
		sc := Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}
		// Registering again would overwrite what was changed here since
		// the last import: an existing client is left alone, as every
		// other resource is.
		// GetClient also finds another project's central client: that one
		// is not ours, and RegisterClient reports the clash below.
		if c, err := s.GetClient(ctx, sc, info.ClientID); err == nil && c.ProjectID == sc.ProjectID {
			continue
		} else if err != nil && KindOf(err) != KindNotFound {
			skip("client %s of project %s: %v", info.ClientID, sc.ProjectID, err)
			continue
		}
		if _, err := s.RegisterClient(ctx, sc, info); err != nil {
			skip("client %s of project %s: %v", info.ClientID, sc.ProjectID, err)
			continue
		}
		st.Clients++
	}

	actions, err := readUpstream(ctx, src, "actions")
	if err != nil {
		return st, err
	}
	for _, r := range actions {
		a := apiv2.Action{FreezerAction: r.object("backup_metadata")}
		if a.FreezerAction == nil {
			a.FreezerAction = apiv2.FreezerAction{}
		}
		if _, ok := a.FreezerAction["action"]; !ok && r.str("action") != "" {
			a.FreezerAction["action"] = r.str("action")
		}
		a.MaxRetries, a.MaxRetriesInterval = r.intp("max_retries"), r.intp("max_retries_interval")
		m := r.boolean("mandatory")
		a.Mandatory = &m
		sc := Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}
		created, err := s.importAction(ctx, sc, r.str("id"), a)
		if err != nil {
			skip("action %s: %v", r.str("id"), err)
		} else if created {
			st.Actions++
		}
	}

	// Upstream master keeps the action list in job_actions and trusts in
	// user_credentials; 13.0 inlines the list in jobs.job_actions.
	links := map[string][]string{}
	if has["job_actions"] {
		rows, err := readUpstream(ctx, src, "job_actions")
		if err != nil {
			return st, err
		}
		type pos struct {
			p  int
			id string
		}
		tmp := map[string][]pos{}
		for _, r := range rows {
			p, _ := strconv.Atoi(r.str("position"))
			tmp[r.str("job_id")] = append(tmp[r.str("job_id")], pos{p, r.str("action_id")})
		}
		for j, ps := range tmp {
			for i := 1; i < len(ps); i++ { // insertion sort: lists are short
				for k := i; k > 0 && ps[k].p < ps[k-1].p; k-- {
					ps[k], ps[k-1] = ps[k-1], ps[k]
				}
			}
			for _, p := range ps {
				links[j] = append(links[j], p.id)
			}
		}
	}
	creds := map[string]*apiv2.UserCredentials{}
	if has["user_credentials"] {
		rows, err := readUpstream(ctx, src, "user_credentials")
		if err != nil {
			return st, err
		}
		for _, r := range rows {
			creds[r.str("job_id")] = &apiv2.UserCredentials{TrustID: r.str("trust_id"), TrustorUserID: r.str("trustor_user_id")}
		}
	}
	jobs, err := readUpstream(ctx, src, "jobs")
	if err != nil {
		return st, err
	}
	for _, r := range jobs {
		j := apiv2.Job{ClientID: r.str("client_id"), Description: r.str("description"), SessionID: r.str("session_id"),
			UserCredentials: creds[r.str("id")]}
		if v := r.intp("session_tag"); v != nil {
			j.SessionTag = *v
		}
		if sch := r.str("schedule"); sch != "" {
			if err := json.Unmarshal([]byte(sch), &j.JobSchedule); err != nil {
				skip("job %s: schedule: %v", r.str("id"), err)
				continue
			}
		}
		if ids, ok := links[r.str("id")]; ok {
			for _, id := range ids {
				j.JobActions = append(j.JobActions, apiv2.Action{ActionID: id})
			}
		} else if v := r.str("job_actions"); v != "" {
			if err := json.Unmarshal([]byte(v), &j.JobActions); err != nil {
				skip("job %s: job_actions: %v", r.str("id"), err)
				continue
			}
		}
		created, err := s.importJob(ctx, Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}, r.str("id"), j)
		if err != nil {
			skip("job %s: %v", r.str("id"), err)
		} else if created {
			st.Jobs++
		}
	}

	sessions, err := readUpstream(ctx, src, "sessions")
	if err != nil {
		return st, err
	}
	for _, r := range sessions {
		d := newSessionDoc()
		d.Description, d.Status, d.Result = r.str("description"), r.str("status"), r.str("result")
		for col, dst := range map[string]*int64{"time_start": &d.TimeStart, "time_end": &d.TimeEnd, "time_started": &d.TimeStarted, "time_ended": &d.TimeEnded} {
			if v := r.intp(col); v != nil {
				*dst = int64(*v)
			}
		}
		if v := r.intp("session_tag"); v != nil {
			d.SessionTag = *v
		}
		if v := r.intp("hold_off"); v != nil {
			d.HoldOff = *v
		}
		if v := r.str("schedule"); v != "" {
			_ = json.Unmarshal([]byte(v), &d.Schedule)
		}
		if v := r.str("job"); v != "" {
			_ = json.Unmarshal([]byte(v), &d.Jobs)
		}
		created, err := s.importSession(ctx, Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}, r.str("id"), d)
		if err != nil {
			skip("session %s: %v", r.str("id"), err)
		} else if created {
			st.Sessions++
		}
	}

	backups, err := readUpstream(ctx, src, "backups")
	if err != nil {
		return st, err
	}
	for _, r := range backups {
		status := r.str("status")
		if status == "" {
			status = apiv2.BackupAvailable
		}
		m := apiv2.BackupMetadata(r.object("backup_metadata"))
		created, err := s.importBackup(ctx, Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}, r.str("id"), status, m)
		if err != nil {
			skip("backup %s: %v", r.str("id"), err)
		} else if created {
			st.Backups++
		}
	}
	return st, nil
}

// upstreamRow is one row of an upstream table, NULL columns absent.
type upstreamRow map[string]string

func (r upstreamRow) str(col string) string { return r[col] }

func (r upstreamRow) boolean(col string) bool {
	v := strings.ToLower(r[col])
	return v == "1" || v == "true"
}

func (r upstreamRow) intp(col string) *int {
	v, ok := r[col]
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	return &n
}

func (r upstreamRow) object(col string) map[string]any {
	v := r[col]
	if v == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

// readUpstream reads the live (not soft-deleted) rows of a table.
func readUpstream(ctx context.Context, src *Store, table string) ([]upstreamRow, error) {
	rows, err := src.db.QueryxContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("reading upstream %s: %w", table, err)
	}
	defer rows.Close()
	var out []upstreamRow
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			return nil, fmt.Errorf("reading upstream %s: %w", table, err)
		}
		r := upstreamRow{}
		for k, v := range m {
			switch x := v.(type) {
			case nil:
			case []byte:
				r[k] = string(x)
			case string:
				r[k] = x
			case bool:
				r[k] = strconv.FormatBool(x)
			default:
				r[k] = fmt.Sprint(x)
			}
		}
		if r.boolean("deleted") {
			continue
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Store) importAction(ctx context.Context, sc Scope, id string, a apiv2.Action) (bool, error) {
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

// importJob inserts a job as it was, without the client checks of the API
// (its client may have been deleted since).
func (s *Store) importJob(ctx context.Context, sc Scope, id string, j apiv2.Job) (bool, error) {
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

func (s *Store) importSession(ctx context.Context, sc Scope, id string, d apiv2.Session) (bool, error) {
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

func (s *Store) importBackup(ctx context.Context, sc Scope, id, status string, m apiv2.BackupMetadata) (bool, error) {
	created := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM backups WHERE project_id = ? AND id = ?", sc.ProjectID, id); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		now := s.now().Unix()
		r := backupRow{ID: id, ProjectID: sc.ProjectID, UserID: sc.UserID, Status: status, Version: 1, CreatedAt: now, UpdatedAt: now}
		r.setMetadata(m)
		res, err := tx.NamedExecContext(ctx, `INSERT INTO backups (id, project_id, user_id, status, job_id, metadata, version, created_at, updated_at)
			VALUES (:id, :project_id, :user_id, :status, :job_id, :metadata, :version, :created_at, :updated_at)`, r)
		if err != nil {
			return fmt.Errorf("inserting backup: %w", err)
		}
		if r.Seq, err = res.LastInsertId(); err != nil {
			return err
		}
		d, err := r.doc()
		if err != nil {
			return err
		}
		created = true
		return writeTerms(ctx, tx, "backup_terms", r.Seq, d)
	})
	return created, err
}
