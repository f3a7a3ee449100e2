package apiv2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
)

// StoredJob is a job as the database keeps it: the columns a job read
// shows, with job_schedule, user_credentials and each freezer_action as
// their stored JSON texts. JobRenderer turns it into a JobView.
type StoredJob struct {
	JobID       string
	ProjectID   string
	UserID      string
	ClientID    string
	Description string
	SessionID   string
	SessionTag  int
	// Schedule is the stored job_schedule object.
	Schedule string
	// UserCredentials is the stored trust object, "" for none.
	UserCredentials string
	Actions         []StoredAction // in position order
}

// StoredAction is an entry of a stored job's action list.
type StoredAction struct {
	Position  int64 // in the job's list
	ActionID  string
	ProjectID string
	UserID    string
	// FreezerAction is the stored option set (without the keys
	// ParseFreezerAction injects), answered as it is.
	FreezerAction      string
	MaxRetries         *int
	MaxRetriesInterval *int
	Mandatory          *bool
}

// injectedKeys are always present in a returned freezer_action (null when
// unset), as upstream returns them.
var injectedKeys = [...]string{"mode", "backup_name", "container", "path_to_backup", "timeout", "priority", "log_file"}

// ParseFreezerAction decodes a stored freezer_action (numbers as written)
// and adds the keys upstream's actions resource always returns, null when
// unset.
func ParseFreezerAction(stored string) (FreezerAction, error) {
	fa, err := ParseStoredFreezerAction(stored)
	if err != nil {
		return nil, err
	}
	for _, k := range injectedKeys {
		if _, ok := fa[k]; !ok {
			fa[k] = nil
		}
	}
	return fa, nil
}

// ParseStoredFreezerAction decodes a stored freezer_action (numbers as
// written) as it was stored: a job's actions are answered so, as upstream
// answers the actions it keeps in the job document.
func ParseStoredFreezerAction(stored string) (FreezerAction, error) {
	fa := FreezerAction{}
	dec := json.NewDecoder(bytes.NewReader([]byte(stored)))
	dec.UseNumber()
	if err := dec.Decode(&fa); err != nil {
		return nil, err
	}
	return fa, nil
}

// JobView is a job as a read answers it: a job list, a job get and the
// scheduler's poll write it straight into the answer (AppendJSON) from
// the stored columns and the job_schedule and freezer_action texts
// rendered once (JobRenderer), instead of decoding those into maps and
// encoding them again, which was most of the API's CPU per read. The
// bytes are exactly what encoding the job's Job gives (see Job and the
// tests), so clients see no difference. A JobView is immutable once made:
// caches share it between requests.
type JobView struct {
	JobID      string
	ProjectID  string
	ClientID   string
	CurrentPID int
	// Credentials is the job's trust, shown only to the central
	// scheduler and the trustor (AppendJSON's withCredentials).
	Credentials *UserCredentials

	job      *StoredJob
	schedule *renderedJSON
	actions  []actionView // in position order
}

// AppendJSON appends the job document. hidePID drops
// job_schedule.current_pid; withCredentials adds user_credentials.
func (v *JobView) AppendJSON(b []byte, hidePID, withCredentials bool) ([]byte, error) {
	b = appendHead(b, v.job)
	b = append(b, `"job_schedule":`...)
	if hidePID && v.CurrentPID != 0 {
		js := v.schedule.schedule // a copy: the cached value stays as it is
		js.CurrentPID = 0
		enc, err := Marshal(js)
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
		enc, err := Marshal(v.Credentials)
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
	r := v.job
	n := 192 + len(r.JobID) + len(r.ProjectID) + len(r.UserID) + len(r.ClientID) + len(r.Description) + len(r.SessionID) +
		len(v.schedule.json)
	for i := range v.actions {
		a := &v.actions[i]
		n += 160 + len(a.ActionID) + len(a.ProjectID) + len(a.UserID) + len(a.fa)
	}
	if v.Credentials != nil {
		n += 256
	}
	return n
}

// Job decodes the view into the document it encodes, with credentials.
func (v *JobView) Job() (Job, error) {
	b, err := v.AppendJSON(nil, false, true)
	if err != nil {
		return Job{}, err
	}
	var j Job
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return Job{}, fmt.Errorf("decoding job view: %w", err)
	}
	return j, nil
}

// actionView is a stored action with its freezer_action encoded.
type actionView struct {
	*StoredAction
	fa []byte // valid compact JSON, from renderFreezerAction
}

// The encoders below write what Marshal writes for a Job's leading
// fields and for its job_actions (same order, same omitempty rules),
// without reflection: they run for every job of every list, get and poll.
// TestJobViewEncodesAsTheDocument and FuzzJobView hold them to Marshal's
// bytes.

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
			b = AppendString(appendKey(b, first, f.name), f.v)
			first = false
		}
	}
	return b, first
}

// appendHead appends {"job_id":...,"session_tag":N, (the object left
// open for job_schedule).
func appendHead(b []byte, r *StoredJob) []byte {
	b, first := openWithIDs(b, "job_id", r.JobID, r.ProjectID, r.UserID)
	b = AppendString(appendKey(b, first, "client_id"), r.ClientID)
	b = AppendString(appendKey(b, false, "description"), r.Description)
	b = AppendString(appendKey(b, false, "session_id"), r.SessionID)
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
		if len(a.fa) > 0 {
			b = append(appendKey(b, first, "freezer_action"), a.fa...)
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
	schedule JobSchedule // for job_schedule texts
}

// JobRenderer makes JobViews. It keeps the answer encoding of the stored
// job_schedule and freezer_action texts it has seen, keyed by the exact
// text, so an entry can never be stale (a changed document is a different
// key) and the many jobs that share an action or a schedule text are
// decoded once. Bounded by bytes; when full it starts over, which costs a
// few decodes. The zero value is ready to use and safe for concurrent use.
type JobRenderer struct {
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

func (c *JobRenderer) get(kind byte, text string, render func() (*renderedJSON, error)) (*renderedJSON, error) {
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
func (c *JobRenderer) renderSchedule(j *StoredJob) (*renderedJSON, error) {
	return c.get('s', j.Schedule, func() (*renderedJSON, error) {
		var js JobSchedule
		if err := json.Unmarshal([]byte(j.Schedule), &js); err != nil {
			return nil, fmt.Errorf("decoding schedule of job %s: %w", j.JobID, err)
		}
		b, err := Marshal(js)
		if err != nil {
			return nil, fmt.Errorf("encoding schedule of job %s: %w", j.JobID, err)
		}
		return &renderedJSON{json: b, schedule: js}, nil
	})
}

// renderFreezerAction returns the encoding of a stored freezer_action, as
// stored.
func (c *JobRenderer) renderFreezerAction(a *StoredAction) ([]byte, error) {
	out, err := c.get('a', a.FreezerAction, func() (*renderedJSON, error) {
		fa, err := ParseStoredFreezerAction(a.FreezerAction)
		if err != nil {
			return nil, fmt.Errorf("decoding action %s: %w", a.ActionID, err)
		}
		b, err := Marshal(fa)
		if err != nil {
			return nil, fmt.Errorf("encoding action %s: %w", a.ActionID, err)
		}
		return &renderedJSON{json: b}, nil
	})
	if err != nil {
		return nil, err
	}
	return out.json, nil
}

// View renders a stored job. The view keeps j: the caller must not change
// it afterwards.
func (c *JobRenderer) View(j *StoredJob) (JobView, error) {
	sched, err := c.renderSchedule(j)
	if err != nil {
		return JobView{}, err
	}
	acts := make([]actionView, len(j.Actions))
	for i := range j.Actions {
		a := &j.Actions[i]
		fa, err := c.renderFreezerAction(a)
		if err != nil {
			return JobView{}, err
		}
		acts[i] = actionView{StoredAction: a, fa: fa}
	}
	v := JobView{JobID: j.JobID, ProjectID: j.ProjectID, ClientID: j.ClientID, CurrentPID: sched.schedule.CurrentPID,
		job: j, schedule: sched, actions: acts}
	if j.UserCredentials != "" {
		var uc UserCredentials
		if err := json.Unmarshal([]byte(j.UserCredentials), &uc); err == nil {
			v.Credentials = &uc
		}
	}
	return v, nil
}
