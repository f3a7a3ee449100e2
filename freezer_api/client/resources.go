package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gophercloud/gophercloud/v2"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// ListOptions page and filter a list call. Limit 0 lets the server choose
// (10).
type ListOptions struct {
	Limit, Offset int
	Search        *apiv2.Search
	// AllProjects asks for every project's jobs (central schedulers).
	AllProjects bool
}

func (o ListOptions) query() string {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.AllProjects {
		q.Set("all_projects", "True")
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (c *Client) do(ctx context.Context, method, u string, body, out any, ok ...int) error {
	opts := &gophercloud.RequestOpts{OkCodes: ok, JSONBody: body, KeepResponseBody: true}
	resp, err := c.sc.Request(ctx, method, u, opts)
	if err != nil {
		var ue gophercloud.ErrUnexpectedResponseCode
		if errors.As(err, &ue) {
			se := &StatusError{Method: method, URL: u, Status: ue.Actual, Body: string(ue.Body)}
			var ae apiv2.Error
			if json.Unmarshal(ue.Body, &ae) == nil {
				se.Title, se.Description = ae.Title, ae.Description
			}
			return se
		}
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	// Documents are small; a limit still keeps a broken server from
	// filling memory.
	dec := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<20))
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("decoding the answer of %s %s: %w", method, u, err)
	}
	return nil
}

// ---------------------------------------------------------------- clients

// RegisterClient registers (or re-registers) a scheduler. already is true
// when the server answered 409 (registered by another project), which
// schedulers treat as success, as upstream does.
func (c *Client) RegisterClient(ctx context.Context, info apiv2.ClientInfo) (already bool, err error) {
	err = c.do(ctx, http.MethodPost, c.url("clients"), info, nil, http.StatusCreated)
	if IsStatus(err, http.StatusConflict) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("registering client %s: %w", info.ClientID, err)
	}
	return false, nil
}

// GetClient fetches a registered client.
func (c *Client) GetClient(ctx context.Context, clientID string) (*apiv2.Client, error) {
	var out apiv2.Client
	if err := c.do(ctx, http.MethodGet, c.url("clients", clientID), nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("getting client %s: %w", clientID, err)
	}
	return &out, nil
}

// ListClients lists the project's clients.
func (c *Client) ListClients(ctx context.Context, o ListOptions) ([]apiv2.Client, error) {
	var out apiv2.ClientList
	if err := c.list(ctx, "clients", o, &out); err != nil {
		return nil, err
	}
	return out.Clients, nil
}

// DeleteClient unregisters a client.
func (c *Client) DeleteClient(ctx context.Context, clientID string) error {
	return c.del(ctx, "client", clientID, c.url("clients", clientID))
}

func (c *Client) list(ctx context.Context, what string, o ListOptions, out any) error {
	var body any
	if o.Search != nil {
		body = o.Search
	}
	if err := c.do(ctx, http.MethodGet, c.url(what)+o.query(), body, out, http.StatusOK); err != nil {
		return fmt.Errorf("listing %s: %w", what, err)
	}
	return nil
}

func (c *Client) del(ctx context.Context, what, id, u string) error {
	if err := c.do(ctx, http.MethodDelete, u, nil, nil, http.StatusNoContent, http.StatusOK, http.StatusAccepted); err != nil {
		return fmt.Errorf("deleting %s %s: %w", what, id, err)
	}
	return nil
}

// ---------------------------------------------------------------- jobs

// ListJobs lists one page of jobs.
func (c *Client) ListJobs(ctx context.Context, o ListOptions) ([]apiv2.Job, error) {
	var out apiv2.JobList
	if err := c.list(ctx, "jobs", o, &out); err != nil {
		return nil, err
	}
	return out.Jobs, nil
}

// ActiveJobsPageSize is the page size upstream's scheduler polls with.
const ActiveJobsPageSize = 10

// ActiveJobs returns every job of clientID that is not completed, paging
// like upstream's scheduler (limit 10, increasing offset until a short
// page) with the same search body.
func (c *Client) ActiveJobs(ctx context.Context, clientID string, allProjects bool) ([]apiv2.Job, error) {
	search := &apiv2.Search{
		Match:    []map[string]any{{"client_id": clientID}},
		MatchNot: []map[string]any{{"status": apiv2.StatusCompleted}},
	}
	var all []apiv2.Job
	seen := map[string]bool{}
	for offset := 0; ; {
		page, err := c.ListJobs(ctx, ListOptions{Limit: ActiveJobsPageSize, Offset: offset, Search: search, AllProjects: allProjects})
		if err != nil {
			return nil, err
		}
		for _, j := range page {
			// Offset paging over a changing list can repeat an entry. Job
			// ids are unique within a project only, and an all-projects
			// listing (a central scheduler) may hold the same id twice.
			if k := j.ProjectID + "/" + j.JobID; !seen[k] {
				seen[k] = true
				all = append(all, j)
			}
		}
		if len(page) < ActiveJobsPageSize {
			return all, nil
		}
		offset += len(page)
		if offset > 1_000_000 {
			return nil, errors.New("listing jobs: more than a million active jobs, giving up")
		}
	}
}

// GetJob fetches a job.
func (c *Client) GetJob(ctx context.Context, jobID string) (*apiv2.Job, error) {
	var out apiv2.Job
	if err := c.do(ctx, http.MethodGet, c.url("jobs", jobID), nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("getting job %s: %w", jobID, err)
	}
	return &out, nil
}

// CreateJob creates a job and returns its id.
func (c *Client) CreateJob(ctx context.Context, job apiv2.Job) (string, error) {
	var out apiv2.JobCreated
	if err := c.do(ctx, http.MethodPost, c.url("jobs"), job, &out, http.StatusCreated); err != nil {
		return "", fmt.Errorf("creating job: %w", err)
	}
	return out.JobID, nil
}

// UpdateJob patches a job. A JobSchedule in the patch replaces the stored
// schedule, so callers send the whole schedule.
func (c *Client) UpdateJob(ctx context.Context, jobID string, patch apiv2.JobPatch) error {
	if err := c.do(ctx, http.MethodPatch, c.url("jobs", jobID), patch, nil, http.StatusOK); err != nil {
		return fmt.Errorf("updating job %s: %w", jobID, err)
	}
	return nil
}

// DeleteJob deletes a job.
func (c *Client) DeleteJob(ctx context.Context, jobID string) error {
	return c.del(ctx, "job", jobID, c.url("jobs", jobID))
}

// JobEvent posts a start, stop or abort event and returns the server's
// result ("success" or "<event> already requested").
func (c *Client) JobEvent(ctx context.Context, jobID, event string) (string, error) {
	var out apiv2.EventResult
	if err := c.do(ctx, http.MethodPost, c.url("jobs", jobID, "event"), apiv2.NewJobEvent(event), &out, http.StatusAccepted); err != nil {
		return "", fmt.Errorf("sending %s event to job %s: %w", event, jobID, err)
	}
	return out.Result, nil
}

// ---------------------------------------------------------------- actions

// CreateAction creates an action and returns its id.
func (c *Client) CreateAction(ctx context.Context, a apiv2.Action) (string, error) {
	var out apiv2.ActionCreated
	if err := c.do(ctx, http.MethodPost, c.url("actions"), a, &out, http.StatusCreated); err != nil {
		return "", fmt.Errorf("creating action: %w", err)
	}
	return out.ActionID, nil
}

// GetAction fetches an action.
func (c *Client) GetAction(ctx context.Context, id string) (*apiv2.Action, error) {
	var out apiv2.Action
	if err := c.do(ctx, http.MethodGet, c.url("actions", id), nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("getting action %s: %w", id, err)
	}
	return &out, nil
}

// ListActions lists one page of actions.
func (c *Client) ListActions(ctx context.Context, o ListOptions) ([]apiv2.Action, error) {
	var out apiv2.ActionList
	if err := c.list(ctx, "actions", o, &out); err != nil {
		return nil, err
	}
	return out.Actions, nil
}

// DeleteAction deletes an action.
func (c *Client) DeleteAction(ctx context.Context, id string) error {
	return c.del(ctx, "action", id, c.url("actions", id))
}

// ---------------------------------------------------------------- backups

// CreateBackup uploads backup metadata (the agent's --metadata-out JSON)
// and returns the new backup id.
func (c *Client) CreateBackup(ctx context.Context, meta apiv2.BackupMetadata) (string, error) {
	var out apiv2.BackupCreated
	if err := c.do(ctx, http.MethodPost, c.url("backups"), meta, &out, http.StatusCreated); err != nil {
		return "", fmt.Errorf("uploading backup metadata: %w", err)
	}
	return out.BackupID, nil
}

// GetBackup fetches a backup.
func (c *Client) GetBackup(ctx context.Context, id string) (*apiv2.Backup, error) {
	var out apiv2.Backup
	if err := c.do(ctx, http.MethodGet, c.url("backups", id), nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("getting backup %s: %w", id, err)
	}
	return &out, nil
}

// ListBackups lists one page of backups.
func (c *Client) ListBackups(ctx context.Context, o ListOptions) ([]apiv2.Backup, error) {
	var out apiv2.BackupList
	if err := c.list(ctx, "backups", o, &out); err != nil {
		return nil, err
	}
	return out.Backups, nil
}

// DeleteBackup deletes a backup's record.
func (c *Client) DeleteBackup(ctx context.Context, id string) error {
	return c.del(ctx, "backup", id, c.url("backups", id))
}

// ---------------------------------------------------------------- sessions

// CreateSession creates a session and returns its id.
func (c *Client) CreateSession(ctx context.Context, s apiv2.Session) (string, error) {
	var out apiv2.SessionCreated
	if err := c.do(ctx, http.MethodPost, c.url("sessions"), s, &out, http.StatusCreated); err != nil {
		return "", fmt.Errorf("creating session: %w", err)
	}
	return out.SessionID, nil
}

// GetSession fetches a session.
func (c *Client) GetSession(ctx context.Context, id string) (*apiv2.Session, error) {
	var out apiv2.Session
	if err := c.do(ctx, http.MethodGet, c.url("sessions", id), nil, &out, http.StatusOK); err != nil {
		return nil, fmt.Errorf("getting session %s: %w", id, err)
	}
	return &out, nil
}

// ListSessions lists one page of sessions.
func (c *Client) ListSessions(ctx context.Context, o ListOptions) ([]apiv2.Session, error) {
	var out apiv2.SessionList
	if err := c.list(ctx, "sessions", o, &out); err != nil {
		return nil, err
	}
	return out.Sessions, nil
}

// DeleteSession deletes a session.
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	return c.del(ctx, "session", id, c.url("sessions", id))
}

// AddJobToSession links a job to a session (the job takes the session's
// schedule and tag).
func (c *Client) AddJobToSession(ctx context.Context, sessionID, jobID string) error {
	if err := c.do(ctx, http.MethodPut, c.url("sessions", sessionID, "jobs", jobID), nil, nil, http.StatusNoContent, http.StatusOK, http.StatusCreated); err != nil {
		return fmt.Errorf("adding job %s to session %s: %w", jobID, sessionID, err)
	}
	return nil
}

// RemoveJobFromSession unlinks a job from a session.
func (c *Client) RemoveJobFromSession(ctx context.Context, sessionID, jobID string) error {
	return c.del(ctx, "job from session", jobID, c.url("sessions", sessionID, "jobs", jobID))
}

// StartSession asks to start jobID's run in the session; the answer's
// Result is "success", "hold-off" or "out-of-sync".
func (c *Client) StartSession(ctx context.Context, sessionID, jobID string, tag int) (apiv2.SessionActionResult, error) {
	var out apiv2.SessionActionResult
	body := apiv2.SessionAction{Start: &apiv2.SessionStart{JobID: jobID, CurrentTag: apiv2.FlexInt(tag)}}
	if err := c.do(ctx, http.MethodPost, c.url("sessions", sessionID, "action"), body, &out, http.StatusAccepted); err != nil {
		return out, fmt.Errorf("starting session %s for job %s: %w", sessionID, jobID, err)
	}
	return out, nil
}

// EndSession reports the end of jobID's run in the session with its result.
func (c *Client) EndSession(ctx context.Context, sessionID, jobID string, tag int, result string) (apiv2.SessionActionResult, error) {
	var out apiv2.SessionActionResult
	body := apiv2.SessionAction{End: &apiv2.SessionEnd{JobID: jobID, CurrentTag: apiv2.FlexInt(tag), Result: result}}
	if err := c.do(ctx, http.MethodPost, c.url("sessions", sessionID, "action"), body, &out, http.StatusAccepted); err != nil {
		return out, fmt.Errorf("ending session %s for job %s: %w", sessionID, jobID, err)
	}
	return out, nil
}
