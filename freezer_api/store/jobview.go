package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// JobView is a job as a read answers it: a job list, a job get and the
// scheduler's poll write it straight into the answer (AppendJSON) from
// the row's fields and the stored job_schedule and freezer_action JSON
// rendered once (renderCache), instead of decoding those into maps and
// encoding them again, which was most of the API's CPU per read. The
// bytes are exactly what encoding the job's apiv2.Job gives (see Job and
// the tests), so clients see no difference.
type JobView struct {
	ProjectID  string
	ClientID   string
	CurrentPID int
	// Credentials is the job's trust, shown only to admin and service
	// callers (AppendJSON's withCredentials).
	Credentials *apiv2.UserCredentials

	row      *jobRow
	schedule *renderedJSON
	actions  []actionView // in position order
}

// AppendJSON appends the job document. hidePID drops
// job_schedule.current_pid; withCredentials adds user_credentials.
func (v *JobView) AppendJSON(b []byte, hidePID, withCredentials bool) ([]byte, error) {
	b = appendHead(b, v.row)
	b = append(b, `"job_schedule":`...)
	if hidePID && v.CurrentPID != 0 {
		js := v.schedule.schedule // a copy: the cached value stays as it is
		js.CurrentPID = 0
		enc, err := apiv2.Marshal(js)
		if err != nil {
			return nil, err
		}
		b = append(b, enc...)
	} else {
		b = append(b, v.schedule.json...)
	}
	b = append(b, `,"job_actions":`...)
	b = appendActions(b, v.actions)
	if withCredentials && v.Credentials != nil {
		enc, err := apiv2.Marshal(v.Credentials)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"user_credentials":`...)
		b = append(b, enc...)
	}
	return append(b, '}'), nil
}

// SizeHint is at least the length AppendJSON appends unless strings need
// escapes, for sizing an answer's buffer once.
func (v *JobView) SizeHint() int {
	r := v.row
	n := 192 + len(r.ID) + len(r.ProjectID) + len(r.UserID) + len(r.ClientID) + len(r.Description) + len(r.SessionID) +
		len(v.schedule.json)
	for i := range v.actions {
		a := &v.actions[i]
		n += 160 + len(a.ActionID) + len(a.ProjectID) + len(a.UserID) + len(a.FreezerAction)
	}
	if v.Credentials != nil {
		n += 256
	}
	return n
}

// Job decodes the view into the document it encodes, with credentials.
func (v *JobView) Job() (apiv2.Job, error) {
	b, err := v.AppendJSON(nil, false, true)
	if err != nil {
		return apiv2.Job{}, err
	}
	var j apiv2.Job
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return apiv2.Job{}, fmt.Errorf("decoding job view: %w", err)
	}
	return j, nil
}

// actionView is apiv2.Action with freezer_action already encoded.
type actionView struct {
	ActionID           string
	ProjectID          string
	UserID             string
	FreezerAction      []byte // valid compact JSON, from renderFreezerAction
	MaxRetries         *int
	MaxRetriesInterval *int
	Mandatory          *bool
}

// The encoders below write what apiv2.Marshal writes for an apiv2.Job's
// leading fields and for its job_actions (same order, same omitempty
// rules), without reflection: they run for every job of every list, get
// and poll. TestJobViewEncodesAsTheDocument and FuzzJobView hold them to
// Marshal's bytes.

// appendKey appends "name": after a comma unless it opens the object.
func appendKey(b []byte, first bool, name string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// openWithIDs opens an object with the ids a job and an action both start
// with: its own ("job_id" or "action_id"), project_id and user_id, each
// omitted when empty. first reports that none was written.
func openWithIDs(b []byte, idName, id, projectID, userID string) (_ []byte, first bool) {
	b = append(b, '{')
	first = true
	for _, f := range [...]struct{ name, v string }{{idName, id}, {"project_id", projectID}, {"user_id", userID}} {
		if f.v != "" {
			b = apiv2.AppendString(appendKey(b, first, f.name), f.v)
			first = false
		}
	}
	return b, first
}

// appendHead appends {"job_id":...,"session_tag":N, (the object left
// open for job_schedule).
func appendHead(b []byte, r *jobRow) []byte {
	b, first := openWithIDs(b, "job_id", r.ID, r.ProjectID, r.UserID)
	b = apiv2.AppendString(appendKey(b, first, "client_id"), r.ClientID)
	b = apiv2.AppendString(appendKey(b, false, "description"), r.Description)
	b = apiv2.AppendString(appendKey(b, false, "session_id"), r.SessionID)
	b = strconv.AppendInt(appendKey(b, false, "session_tag"), int64(r.SessionTag), 10)
	return append(b, ',')
}

// appendActions appends the job_actions array.
func appendActions(b []byte, acts []actionView) []byte {
	b = append(b, '[')
	for i := range acts {
		a := &acts[i]
		if i > 0 {
			b = append(b, ',')
		}
		var first bool
		b, first = openWithIDs(b, "action_id", a.ActionID, a.ProjectID, a.UserID)
		if len(a.FreezerAction) > 0 {
			b = append(appendKey(b, first, "freezer_action"), a.FreezerAction...)
			first = false
		}
		if a.MaxRetries != nil {
			b = strconv.AppendInt(appendKey(b, first, "max_retries"), int64(*a.MaxRetries), 10)
			first = false
		}
		if a.MaxRetriesInterval != nil {
			b = strconv.AppendInt(appendKey(b, first, "max_retries_interval"), int64(*a.MaxRetriesInterval), 10)
			first = false
		}
		if a.Mandatory != nil {
			b = strconv.AppendBool(appendKey(b, first, "mandatory"), *a.Mandatory)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// renderedJSON is what a stored JSON text encodes to in an answer.
type renderedJSON struct {
	json     []byte
	schedule apiv2.JobSchedule // for job_schedule texts
}

// renderCache maps stored job_schedule and freezer_action texts to their
// encoding in answers. It is keyed by the exact stored text, so an entry
// can never be stale: a changed document is a different key. Bounded by
// bytes; when full it starts over, which costs a few decodes.
type renderCache struct {
	mu    sync.Mutex
	m     map[renderKey]*renderedJSON
	bytes int
}

// renderKey is a stored text and its kind ('s' schedule, 'a' action); a
// struct rather than kind+text so that a lookup builds no string.
type renderKey struct {
	kind byte
	text string
}

const (
	renderCacheMaxBytes = 8 << 20
	renderCacheMaxEntry = 16 << 10
)

func (c *renderCache) get(kind byte, text string, render func() (*renderedJSON, error)) (*renderedJSON, error) {
	key := renderKey{kind, text}
	c.mu.Lock()
	r, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := render()
	if err != nil || len(text) > renderCacheMaxEntry {
		return r, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	size := 2*len(text) + len(r.json)
	if c.m == nil || c.bytes+size > renderCacheMaxBytes {
		c.m, c.bytes = map[renderKey]*renderedJSON{}, 0
	}
	c.m[key] = r
	c.bytes += size
	return r, nil
}

// renderSchedule returns the encoding of a stored job_schedule.
func (s *Store) renderSchedule(r *jobRow) (*renderedJSON, error) {
	return s.rendered.get('s', r.Schedule, func() (*renderedJSON, error) {
		js, err := r.schedule()
		if err != nil {
			return nil, err
		}
		b, err := apiv2.Marshal(js)
		if err != nil {
			return nil, fmt.Errorf("encoding schedule of job %s: %w", r.ID, err)
		}
		return &renderedJSON{json: b, schedule: js}, nil
	})
}

// renderFreezerAction returns the encoding of a stored freezer_action,
// with upstream's injected keys.
func (s *Store) renderFreezerAction(r *actionRow) ([]byte, error) {
	out, err := s.rendered.get('a', r.FreezerAction, func() (*renderedJSON, error) {
		a, err := r.doc()
		if err != nil {
			return nil, err
		}
		b, err := apiv2.Marshal(a.FreezerAction)
		if err != nil {
			return nil, fmt.Errorf("encoding action %s: %w", r.ID, err)
		}
		return &renderedJSON{json: b}, nil
	})
	if err != nil {
		return nil, err
	}
	return out.json, nil
}

// actionViewOf is the action as a job's job_actions entry shows it.
func (s *Store) actionViewOf(r *actionRow) (actionView, error) {
	fa, err := s.renderFreezerAction(r)
	if err != nil {
		return actionView{}, err
	}
	v := actionView{ActionID: r.ID, ProjectID: r.ProjectID, UserID: r.UserID, FreezerAction: fa}
	v.MaxRetries, v.MaxRetriesInterval, v.Mandatory = r.options()
	return v, nil
}

// jobView renders a job row and its actions (in position order).
func (s *Store) jobView(r *jobRow, actions []actionView) (JobView, error) {
	sched, err := s.renderSchedule(r)
	if err != nil {
		return JobView{}, err
	}
	v := JobView{ProjectID: r.ProjectID, ClientID: r.ClientID, CurrentPID: sched.schedule.CurrentPID,
		row: r, schedule: sched, actions: actions}
	if r.UserCredentials.Valid && r.UserCredentials.String != "" {
		var uc apiv2.UserCredentials
		if err := json.Unmarshal([]byte(r.UserCredentials.String), &uc); err == nil {
			v.Credentials = &uc
		}
	}
	return v, nil
}
