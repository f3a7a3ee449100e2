package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// JobView is a job as a read answers it, already encoded: a job list, a
// job get and the scheduler's poll splice these bytes into the answer
// instead of decoding the stored job_schedule and freezer_action JSON
// into maps and encoding them again, which was most of the API's CPU per
// read. The bytes are exactly what encoding the job's apiv2.Job gives
// (see Job and the tests), so clients see no difference.
type JobView struct {
	ProjectID  string
	ClientID   string
	CurrentPID int
	// Credentials is the job's trust, shown only to admin and service
	// callers (AppendJSON's withCredentials).
	Credentials *apiv2.UserCredentials

	head     []byte // {"job_id":...,"session_tag":N,
	schedule *renderedJSON
	actions  []byte // [...] (never null)
}

// AppendJSON appends the job document. hidePID drops
// job_schedule.current_pid; withCredentials adds user_credentials.
func (v *JobView) AppendJSON(b []byte, hidePID, withCredentials bool) ([]byte, error) {
	b = append(b, v.head...)
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
	b = append(b, v.actions...)
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

// jobHead holds the job fields that come before job_schedule, in the
// order and with the omitempty rules of apiv2.Job.
type jobHead struct {
	JobID       string `json:"job_id,omitempty"`
	ProjectID   string `json:"project_id,omitempty"`
	UserID      string `json:"user_id,omitempty"`
	ClientID    string `json:"client_id"`
	Description string `json:"description"`
	SessionID   string `json:"session_id"`
	SessionTag  int    `json:"session_tag"`
}

// actionView is apiv2.Action with freezer_action already encoded.
type actionView struct {
	ActionID           string          `json:"action_id,omitempty"`
	ProjectID          string          `json:"project_id,omitempty"`
	UserID             string          `json:"user_id,omitempty"`
	FreezerAction      json.RawMessage `json:"freezer_action,omitempty"`
	MaxRetries         *int            `json:"max_retries,omitempty"`
	MaxRetriesInterval *int            `json:"max_retries_interval,omitempty"`
	Mandatory          *bool           `json:"mandatory,omitempty"`
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
	m     map[string]*renderedJSON
	bytes int
}

const (
	renderCacheMaxBytes = 8 << 20
	renderCacheMaxEntry = 16 << 10
)

func (c *renderCache) get(kind byte, text string, render func() (*renderedJSON, error)) (*renderedJSON, error) {
	key := string(kind) + text
	c.mu.Lock()
	r, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := render()
	if err != nil || len(key) > renderCacheMaxEntry {
		return r, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	size := 2*len(key) + len(r.json)
	if c.m == nil || c.bytes+size > renderCacheMaxBytes {
		c.m, c.bytes = map[string]*renderedJSON{}, 0
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
	head, err := apiv2.Marshal(jobHead{JobID: r.ID, ProjectID: r.ProjectID, UserID: r.UserID, ClientID: r.ClientID,
		Description: r.Description, SessionID: r.SessionID, SessionTag: r.SessionTag})
	if err != nil {
		return JobView{}, fmt.Errorf("encoding job %s: %w", r.ID, err)
	}
	head = append(head[:len(head)-1], ',') // the object continues
	if actions == nil {
		actions = []actionView{}
	}
	acts, err := apiv2.Marshal(actions)
	if err != nil {
		return JobView{}, fmt.Errorf("encoding actions of job %s: %w", r.ID, err)
	}
	v := JobView{ProjectID: r.ProjectID, ClientID: r.ClientID, CurrentPID: sched.schedule.CurrentPID,
		head: head, schedule: sched, actions: acts}
	if r.UserCredentials.Valid && r.UserCredentials.String != "" {
		var uc apiv2.UserCredentials
		if err := json.Unmarshal([]byte(r.UserCredentials.String), &uc); err == nil {
			v.Credentials = &uc
		}
	}
	return v, nil
}
