package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

// Stats counts what Import copied.
type Stats struct {
	Clients, Actions, Jobs, Sessions, Backups int
	Skipped                                   []string // why rows were left out
}

func (st *Stats) skip(format string, a ...any) {
	st.Skipped = append(st.Skipped, fmt.Sprintf(format, a...))
}

// Import copies the resources of an upstream (Python) freezer-api
// database, src, into dst, keeping ids, owners and documents, so
// operators can switch without losing jobs, clients, sessions or backup
// records. It reads the schema of Debian's 13.0 (actions inlined in
// jobs.job_actions) and of upstream master (job_actions and
// user_credentials tables, backups.status, clients capabilities).
// Soft-deleted rows are skipped; rows that already exist in dst are left
// alone, so it can run again. A row that cannot be imported is reported in
// Stats.Skipped; an error is returned when a table cannot be read or dst
// fails.
func Import(ctx context.Context, dst, src *store.Store) (Stats, error) {
	var st Stats
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
	if err := clients(ctx, dst, src, &st); err != nil {
		return st, err
	}
	if err := actions(ctx, dst, src, &st); err != nil {
		return st, err
	}
	// Upstream master keeps the action list in job_actions and trusts in
	// user_credentials; 13.0 inlines the list in jobs.job_actions.
	var links map[string][]string
	if has["job_actions"] {
		if links, err = jobActions(ctx, src); err != nil {
			return st, err
		}
	}
	var creds map[string]*apiv2.UserCredentials
	if has["user_credentials"] {
		if creds, err = userCredentials(ctx, src); err != nil {
			return st, err
		}
	}
	if err := jobs(ctx, dst, src, links, creds, &st); err != nil {
		return st, err
	}
	if err := sessions(ctx, dst, src, &st); err != nil {
		return st, err
	}
	return st, backups(ctx, dst, src, &st)
}

// clients imports the clients table.
func clients(ctx context.Context, dst, src *store.Store, st *Stats) error {
	rows, err := read(ctx, src, "clients")
	if err != nil {
		return err
	}
	for _, r := range rows {
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
		sc := store.Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}
		// Registering again would overwrite what was changed here since
		// the last import: an existing client is left alone, as every
		// other resource is.
		// GetClient also finds another project's central client: that one
		// is not ours, and RegisterClient reports the clash below.
		if c, err := dst.GetClient(ctx, sc, info.ClientID); err == nil && c.ProjectID == sc.ProjectID {
			continue
		} else if err != nil && store.KindOf(err) != store.KindNotFound {
			st.skip("client %s of project %s: %v", info.ClientID, sc.ProjectID, err)
			continue
		}
		if _, err := dst.RegisterClient(ctx, sc, info); err != nil {
			st.skip("client %s of project %s: %v", info.ClientID, sc.ProjectID, err)
			continue
		}
		st.Clients++
	}
	return nil
}

// actions imports the actions table.
func actions(ctx context.Context, dst, src *store.Store, st *Stats) error {
	rows, err := read(ctx, src, "actions")
	if err != nil {
		return err
	}
	for _, r := range rows {
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
		sc := store.Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}
		created, err := dst.ImportAction(ctx, sc, r.str("id"), a)
		if err != nil {
			st.skip("action %s: %v", r.str("id"), err)
		} else if created {
			st.Actions++
		}
	}
	return nil
}

// jobActions reads upstream master's job_actions table: the action ids
// of each job, in position order.
func jobActions(ctx context.Context, src *store.Store) (map[string][]string, error) {
	rows, err := read(ctx, src, "job_actions")
	if err != nil {
		return nil, err
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
	links := map[string][]string{}
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
	return links, nil
}

// userCredentials reads upstream master's user_credentials table: the
// trust of each job.
func userCredentials(ctx context.Context, src *store.Store) (map[string]*apiv2.UserCredentials, error) {
	rows, err := read(ctx, src, "user_credentials")
	if err != nil {
		return nil, err
	}
	creds := map[string]*apiv2.UserCredentials{}
	for _, r := range rows {
		creds[r.str("job_id")] = &apiv2.UserCredentials{TrustID: r.str("trust_id"), TrustorUserID: r.str("trustor_user_id")}
	}
	return creds, nil
}

// jobs imports the jobs table; links and creds are what jobActions and
// userCredentials read (nil for a 13.0 database).
func jobs(ctx context.Context, dst, src *store.Store, links map[string][]string, creds map[string]*apiv2.UserCredentials, st *Stats) error {
	rows, err := read(ctx, src, "jobs")
	if err != nil {
		return err
	}
	for _, r := range rows {
		j := apiv2.Job{ClientID: r.str("client_id"), Description: r.str("description"), SessionID: r.str("session_id"),
			UserCredentials: creds[r.str("id")]}
		if v := r.intp("session_tag"); v != nil {
			j.SessionTag = *v
		}
		if sch := r.str("schedule"); sch != "" {
			if err := json.Unmarshal([]byte(sch), &j.JobSchedule); err != nil {
				st.skip("job %s: schedule: %v", r.str("id"), err)
				continue
			}
		}
		if ids, ok := links[r.str("id")]; ok {
			for _, id := range ids {
				j.JobActions = append(j.JobActions, apiv2.Action{ActionID: id})
			}
		} else if v := r.str("job_actions"); v != "" {
			if err := json.Unmarshal([]byte(v), &j.JobActions); err != nil {
				st.skip("job %s: job_actions: %v", r.str("id"), err)
				continue
			}
		}
		created, err := dst.ImportJob(ctx, store.Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}, r.str("id"), j)
		if err != nil {
			st.skip("job %s: %v", r.str("id"), err)
		} else if created {
			st.Jobs++
		}
	}
	return nil
}

// sessions imports the sessions table.
func sessions(ctx context.Context, dst, src *store.Store, st *Stats) error {
	rows, err := read(ctx, src, "sessions")
	if err != nil {
		return err
	}
	for _, r := range rows {
		d := store.NewSessionDoc()
		d.Description, d.Status = r.str("description"), r.str("status")
		if res, ok := r["result"]; ok {
			d.Result = &res
		}
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
		created, err := dst.ImportSession(ctx, store.Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}, r.str("id"), d)
		if err != nil {
			st.skip("session %s: %v", r.str("id"), err)
		} else if created {
			st.Sessions++
		}
	}
	return nil
}

// backups imports the backups table.
func backups(ctx context.Context, dst, src *store.Store, st *Stats) error {
	rows, err := read(ctx, src, "backups")
	if err != nil {
		return err
	}
	for _, r := range rows {
		status := r.str("status")
		if status == "" {
			status = apiv2.BackupAvailable
		}
		m := apiv2.BackupMetadata(r.object("backup_metadata"))
		created, err := dst.ImportBackup(ctx, store.Scope{ProjectID: r.str("project_id"), UserID: r.str("user_id")}, r.str("id"), status, m)
		if err != nil {
			st.skip("backup %s: %v", r.str("id"), err)
		} else if created {
			st.Backups++
		}
	}
	return nil
}

// row is one row of an upstream table, NULL columns absent.
type row map[string]string

func (r row) str(col string) string { return r[col] }

func (r row) boolean(col string) bool {
	v := strings.ToLower(r[col])
	return v == "1" || v == "true"
}

func (r row) intp(col string) *int {
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

func (r row) object(col string) map[string]any {
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

// read reads the live (not soft-deleted) rows of a table.
func read(ctx context.Context, src *store.Store, table string) ([]row, error) {
	rows, err := src.ScanTable(ctx, table)
	if err != nil {
		return nil, fmt.Errorf("reading upstream %s: %w", table, err)
	}
	out := make([]row, 0, len(rows))
	for _, r := range rows {
		if row(r).boolean("deleted") {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
