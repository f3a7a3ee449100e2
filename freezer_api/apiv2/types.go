package apiv2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"freezer.dev/freezer/internal/config"
)

// Job schedule status values ("" is allowed and means "not yet scheduled").
const (
	StatusCompleted = "completed"
	StatusStop      = "stop"
	StatusScheduled = "scheduled"
	StatusRunning   = "running"
	StatusAborting  = "aborting"
	StatusRemoved   = "removed"
)

// Job events, as found in JobSchedule.Event and as keys of a job event body.
const (
	EventStart  = "start"
	EventStop   = "stop"
	EventAbort  = "abort"
	EventRemove = "remove"
)

// Job and session results.
const (
	ResultSuccess = "success"
	ResultFail    = "fail"
	ResultAborted = "aborted"
)

// Backup status values.
const (
	BackupCreating  = "creating"
	BackupAvailable = "available"
	BackupError     = "error"
	BackupDeleting  = "deleting"
	BackupDeleted   = "deleted"
)

// Enumerations accepted by the API. They are functions so that callers
// cannot modify a shared slice.

// ScheduleStatuses lists the allowed values of JobSchedule.Status.
func ScheduleStatuses() []string {
	return []string{"", StatusCompleted, StatusStop, StatusScheduled, StatusRunning, StatusAborting, StatusRemoved}
}

// ScheduleEvents lists the allowed values of JobSchedule.Event.
func ScheduleEvents() []string {
	return []string{"", EventStop, EventStart, EventAbort, EventRemove}
}

// ScheduleResults lists the allowed values of JobSchedule.Result.
func ScheduleResults() []string { return []string{"", ResultSuccess, ResultFail, ResultAborted} }

// BackupStatuses lists the allowed values of Backup.Status.
func BackupStatuses() []string {
	return []string{BackupCreating, BackupAvailable, BackupError, BackupDeleting, BackupDeleted}
}

// SupportedActions is the default of ClientInfo.SupportedActions when a
// client registers without the list: upstream's actions, which every
// agent runs.
func SupportedActions() []string { return []string{"backup", "restore", "info", "admin", "exec"} }

// KnownActions lists the values ClientInfo.SupportedActions may hold:
// upstream's and verify, which only our agent runs.
func KnownActions() []string { return append(SupportedActions(), "verify") }

// SupportedModes lists the values of ClientInfo.SupportedModes.
func SupportedModes() []string {
	return []string{"fs", "mongo", "mysql", "sqlserver", "cinder", "glance", "cindernative", "nova"}
}

// SupportedStorages lists the values of ClientInfo.SupportedStorages.
func SupportedStorages() []string { return []string{"local", "swift", "ssh", "s3", "ftp", "ftps"} }

// SupportedEngines lists the values of ClientInfo.SupportedEngines.
func SupportedEngines() []string {
	return []string{"tar", "rsync", "rsyncv2", "nova", "osbrick", "glance"}
}

// ---------------------------------------------------------------- jobs

// Job is a job document: GET /v2/{project_id}/jobs/{job_id}, an element of
// a job list, and the body of POST /jobs and POST /jobs/{job_id}.
// ProjectID and UserID are always set by the server; values in a request
// body are ignored.
type Job struct {
	JobID           string           `json:"job_id,omitempty"`
	ProjectID       string           `json:"project_id,omitempty"`
	UserID          string           `json:"user_id,omitempty"`
	ClientID        string           `json:"client_id"`
	Description     string           `json:"description"`
	SessionID       string           `json:"session_id"`
	SessionTag      int              `json:"session_tag"`
	JobSchedule     JobSchedule      `json:"job_schedule"`
	JobActions      []Action         `json:"job_actions"`
	UserCredentials *UserCredentials `json:"user_credentials,omitempty"`
}

// JobSchedule is a job's job_schedule object (and a session's schedule).
// Its key set is closed: the server rejects unknown keys. The scheduler
// keeps Status, Event, Result, CurrentPID and the Time* fields up to date.
// TimeCreated/TimeStarted/TimeEnded are epoch seconds, -1 when unset.
//
// Event, Status and Result are encoded when set, and also when empty if
// the decoded document had them (MarshalJSON): a schedule is answered as
// it was stored, as upstream does, without empty keys it never had.
type JobSchedule struct {
	TimeCreated       int64  `json:"time_created,omitempty"`
	TimeStarted       int64  `json:"time_started,omitempty"`
	TimeEnded         int64  `json:"time_ended,omitempty"`
	CurrentPID        int    `json:"current_pid,omitempty"`
	Event             string `json:"event,omitempty"`
	Status            string `json:"status,omitempty"`
	Result            string `json:"result,omitempty"`
	ScheduleDate      string `json:"schedule_date,omitempty"`
	ScheduleStartDate string `json:"schedule_start_date,omitempty"`
	ScheduleEndDate   string `json:"schedule_end_date,omitempty"`
	ScheduleInterval  string `json:"schedule_interval,omitempty"`
	ScheduleYear      string `json:"schedule_year,omitempty"`
	ScheduleMonth     string `json:"schedule_month,omitempty"`
	ScheduleDay       string `json:"schedule_day,omitempty"`
	ScheduleWeek      string `json:"schedule_week,omitempty"`
	ScheduleDayOfWeek string `json:"schedule_day_of_week,omitempty"`
	ScheduleHour      string `json:"schedule_hour,omitempty"`
	ScheduleMinute    string `json:"schedule_minute,omitempty"`
	ScheduleSecond    string `json:"schedule_second,omitempty"`

	// empty records which of event, status and result the decoded
	// document had with the value "" (or KeepStateKeys asked for).
	empty stateKeys
}

// stateKeys is a set of the keys event, status and result.
type stateKeys uint8

const (
	keyEvent stateKeys = 1 << iota
	keyStatus
	keyResult
)

// scheduleJSON is JobSchedule's encoding: the same keys in the same
// order, with event, status and result present when not nil.
// TestScheduleJSONMirrorsJobSchedule keeps the two in step.
type scheduleJSON struct {
	TimeCreated       int64   `json:"time_created,omitempty"`
	TimeStarted       int64   `json:"time_started,omitempty"`
	TimeEnded         int64   `json:"time_ended,omitempty"`
	CurrentPID        int     `json:"current_pid,omitempty"`
	Event             *string `json:"event,omitempty"`
	Status            *string `json:"status,omitempty"`
	Result            *string `json:"result,omitempty"`
	ScheduleDate      string  `json:"schedule_date,omitempty"`
	ScheduleStartDate string  `json:"schedule_start_date,omitempty"`
	ScheduleEndDate   string  `json:"schedule_end_date,omitempty"`
	ScheduleInterval  string  `json:"schedule_interval,omitempty"`
	ScheduleYear      string  `json:"schedule_year,omitempty"`
	ScheduleMonth     string  `json:"schedule_month,omitempty"`
	ScheduleDay       string  `json:"schedule_day,omitempty"`
	ScheduleWeek      string  `json:"schedule_week,omitempty"`
	ScheduleDayOfWeek string  `json:"schedule_day_of_week,omitempty"`
	ScheduleHour      string  `json:"schedule_hour,omitempty"`
	ScheduleMinute    string  `json:"schedule_minute,omitempty"`
	ScheduleSecond    string  `json:"schedule_second,omitempty"`
}

// KeepStateKeys returns the schedule with event, status and result
// encoded even when empty. It is how the search index sees a schedule
// (an absent key searches as the empty value, as when every schedule had
// them) and how an event that clears status and result stores them.
func (js JobSchedule) KeepStateKeys() JobSchedule {
	js.empty = keyEvent | keyStatus | keyResult
	return js
}

// WithStateOf returns the schedule with event, status and result as
// other has them (values, and whether an empty one is kept).
func (js JobSchedule) WithStateOf(other JobSchedule) JobSchedule {
	js.Event, js.Status, js.Result, js.empty = other.Event, other.Status, other.Result, other.empty
	return js
}

// MarshalJSON encodes the schedule without HTML escaping (as Marshal).
func (js JobSchedule) MarshalJSON() ([]byte, error) {
	state := func(v string, k stateKeys) *string {
		if v == "" && js.empty&k == 0 {
			return nil
		}
		return &v
	}
	return Marshal(scheduleJSON{TimeCreated: js.TimeCreated, TimeStarted: js.TimeStarted, TimeEnded: js.TimeEnded,
		CurrentPID: js.CurrentPID,
		Event:      state(js.Event, keyEvent), Status: state(js.Status, keyStatus), Result: state(js.Result, keyResult),
		ScheduleDate: js.ScheduleDate, ScheduleStartDate: js.ScheduleStartDate, ScheduleEndDate: js.ScheduleEndDate,
		ScheduleInterval: js.ScheduleInterval, ScheduleYear: js.ScheduleYear, ScheduleMonth: js.ScheduleMonth,
		ScheduleDay: js.ScheduleDay, ScheduleWeek: js.ScheduleWeek, ScheduleDayOfWeek: js.ScheduleDayOfWeek,
		ScheduleHour: js.ScheduleHour, ScheduleMinute: js.ScheduleMinute, ScheduleSecond: js.ScheduleSecond})
}

// UnmarshalJSON decodes a schedule and remembers which of event, status
// and result it had empty.
func (js *JobSchedule) UnmarshalJSON(b []byte) error {
	var d scheduleJSON
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	var empty stateKeys
	state := func(p *string, k stateKeys) string {
		if p == nil {
			return ""
		}
		if *p == "" {
			empty |= k
		}
		return *p
	}
	*js = JobSchedule{TimeCreated: d.TimeCreated, TimeStarted: d.TimeStarted, TimeEnded: d.TimeEnded,
		CurrentPID: d.CurrentPID,
		Event:      state(d.Event, keyEvent), Status: state(d.Status, keyStatus), Result: state(d.Result, keyResult),
		ScheduleDate: d.ScheduleDate, ScheduleStartDate: d.ScheduleStartDate, ScheduleEndDate: d.ScheduleEndDate,
		ScheduleInterval: d.ScheduleInterval, ScheduleYear: d.ScheduleYear, ScheduleMonth: d.ScheduleMonth,
		ScheduleDay: d.ScheduleDay, ScheduleWeek: d.ScheduleWeek, ScheduleDayOfWeek: d.ScheduleDayOfWeek,
		ScheduleHour: d.ScheduleHour, ScheduleMinute: d.ScheduleMinute, ScheduleSecond: d.ScheduleSecond,
		empty: empty}
	return nil
}

// UserCredentials is the Keystone trust a central scheduler uses to act for
// the job's owner.
type UserCredentials struct {
	TrustID       string `json:"trust_id"`
	TrustorUserID string `json:"trustor_user_id"`
}

// JobPatch is the body of PATCH /v2/{project_id}/jobs/{job_id}. Absent
// fields are left unchanged; JobSchedule, when present, replaces the stored
// schedule (the scheduler always sends the whole schedule); JobActions, when
// present, replaces the job's action list.
type JobPatch struct {
	ClientID    *string      `json:"client_id,omitempty"`
	Description *string      `json:"description,omitempty"`
	SessionID   *string      `json:"session_id,omitempty"`
	SessionTag  *int         `json:"session_tag,omitempty"`
	JobSchedule *JobSchedule `json:"job_schedule,omitempty"`
	JobActions  []Action     `json:"job_actions,omitempty"`
}

// JobCreated answers POST /jobs.
type JobCreated struct {
	JobID string `json:"job_id"`
}

// JobUpdated answers PATCH /jobs/{id} and POST /jobs/{id}.
type JobUpdated struct {
	JobID   string `json:"job_id"`
	Version int    `json:"version"`
}

// JobList is the envelope of GET /jobs.
type JobList struct {
	Jobs []Job `json:"jobs"`
}

// JobEvent is the body of POST /jobs/{id}/event: one key, the event name
// (EventStart, EventStop, EventAbort); the value is ignored (clients send
// null).
type JobEvent map[string]json.RawMessage

// NewJobEvent returns the body for the named event.
func NewJobEvent(event string) JobEvent { return JobEvent{event: json.RawMessage("null")} }

// EventResult answers a job event and a session action's result string.
type EventResult struct {
	Result string `json:"result"`
}

// ---------------------------------------------------------------- actions

// Action is an action document (GET /actions/{id}, list element, the body
// of POST /actions and POST /actions/{id}) and also an element of a job's
// job_actions. In a job body an entry may carry only ActionID to reference
// an existing action of the project.
type Action struct {
	ActionID           string        `json:"action_id,omitempty"`
	ProjectID          string        `json:"project_id,omitempty"`
	UserID             string        `json:"user_id,omitempty"`
	FreezerAction      FreezerAction `json:"freezer_action,omitempty"`
	MaxRetries         *int          `json:"max_retries,omitempty"`
	MaxRetriesInterval *int          `json:"max_retries_interval,omitempty"`
	Mandatory          *bool         `json:"mandatory,omitempty"`
}

// ActionPatch is the body of PATCH /actions/{id}. Absent fields are left
// unchanged; FreezerAction, when present, replaces the stored one.
type ActionPatch struct {
	FreezerAction      FreezerAction `json:"freezer_action,omitempty"`
	MaxRetries         *int          `json:"max_retries,omitempty"`
	MaxRetriesInterval *int          `json:"max_retries_interval,omitempty"`
	Mandatory          *bool         `json:"mandatory,omitempty"`
}

// ActionCreated answers POST /actions.
type ActionCreated struct {
	ActionID string `json:"action_id"`
}

// ActionUpdated answers PATCH /actions/{id} and POST /actions/{id}.
type ActionUpdated struct {
	ActionID string `json:"action_id"`
	Version  int    `json:"version"`
}

// ActionList is the envelope of GET /actions.
type ActionList struct {
	Actions []Action `json:"actions"`
}

// FreezerAction is the open-ended option set an agent runs (the keys of a
// freezer-agent INI job file: action, mode, path_to_backup, backup_name,
// container, storage, engine_name, ...). Unknown keys are kept verbatim.
type FreezerAction map[string]any

// String returns the key's value if it is a string, else "".
func (f FreezerAction) String(key string) string { return mapString(f, key) }

// Int returns the key's value as an integer (JSON number or numeric string).
func (f FreezerAction) Int(key string) (int64, bool) { return mapInt(f, key) }

// Bool returns the key's value as a boolean (JSON bool, or a string or
// number the Python agent would read as one).
func (f FreezerAction) Bool(key string) (bool, bool) { return mapBool(f, key) }

// Action is freezer_action.action (backup, restore, info, admin, exec).
func (f FreezerAction) Action() string { return f.String("action") }

// Mode is freezer_action.mode (fs, mysql, ...).
func (f FreezerAction) Mode() string { return f.String("mode") }

// Storage is freezer_action.storage (swift, local, ...).
func (f FreezerAction) Storage() string { return f.String("storage") }

// Engine is freezer_action.engine_name (tar, rsync, ...).
func (f FreezerAction) Engine() string { return f.String("engine_name") }

// ---------------------------------------------------------------- sessions

// Session is a session document. Jobs maps job ids to their state in the
// session; the server always returns an object, never null.
type Session struct {
	SessionID   string                `json:"session_id,omitempty"`
	ProjectID   string                `json:"project_id,omitempty"`
	UserID      string                `json:"user_id,omitempty"`
	Description string                `json:"description"`
	SessionTag  int                   `json:"session_tag"`
	HoldOff     int                   `json:"hold_off"`
	Status      string                `json:"status"`
	Result      *string               `json:"result"` // null until set, as upstream
	TimeStart   int64                 `json:"time_start"`
	TimeEnd     int64                 `json:"time_end"`
	TimeStarted int64                 `json:"time_started"`
	TimeEnded   int64                 `json:"time_ended"`
	Schedule    JobSchedule           `json:"schedule"`
	Jobs        map[string]SessionJob `json:"jobs"`
}

// ResultString is the session's result, "" while it has none.
func (s Session) ResultString() string {
	if s.Result == nil {
		return ""
	}
	return *s.Result
}

// SessionJob is a job's entry in Session.Jobs.
type SessionJob struct {
	ClientID    string  `json:"client_id"`
	Status      string  `json:"status"`
	Result      string  `json:"result"`
	TimeStarted FlexInt `json:"time_started"`
	TimeEnded   FlexInt `json:"time_ended"`
}

// SessionPatch is the body of PATCH /sessions/{id} and of POST
// /sessions/{id} (which sets the fields present, creating the session if
// needed). Schedule replaces the stored schedule; Jobs is merged by job id.
type SessionPatch struct {
	Description *string               `json:"description,omitempty"`
	SessionTag  *int                  `json:"session_tag,omitempty"`
	HoldOff     *int                  `json:"hold_off,omitempty"`
	Status      *string               `json:"status,omitempty"`
	Result      *string               `json:"result,omitempty"`
	TimeStart   *int64                `json:"time_start,omitempty"`
	TimeEnd     *int64                `json:"time_end,omitempty"`
	TimeStarted *int64                `json:"time_started,omitempty"`
	TimeEnded   *int64                `json:"time_ended,omitempty"`
	Schedule    *JobSchedule          `json:"schedule,omitempty"`
	Jobs        map[string]SessionJob `json:"jobs,omitempty"`
}

// SessionCreated answers POST /sessions.
type SessionCreated struct {
	SessionID string `json:"session_id"`
}

// SessionUpdated answers PATCH /sessions/{id} and POST /sessions/{id}.
type SessionUpdated struct {
	SessionID string `json:"session_id"`
	Version   int    `json:"version"`
}

// SessionList is the envelope of GET /sessions.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}

// SessionAction is the body of POST /sessions/{id}/action: exactly one of
// Start and End.
type SessionAction struct {
	Start *SessionStart `json:"start,omitempty"`
	End   *SessionEnd   `json:"end,omitempty"`
}

// SessionStart asks to start a job of the session.
type SessionStart struct {
	JobID      string  `json:"job_id"`
	CurrentTag FlexInt `json:"current_tag"`
}

// SessionEnd reports the end of a job of the session.
type SessionEnd struct {
	JobID      string  `json:"job_id"`
	CurrentTag FlexInt `json:"current_tag"`
	Result     string  `json:"result"`
}

// SessionActionResult answers a session action. Result is "success",
// "hold-off" or "out-of-sync".
type SessionActionResult struct {
	Result     string `json:"result"`
	SessionTag int    `json:"session_tag"`
}

// ---------------------------------------------------------------- clients

// ClientInfo is what a scheduler registers (the flat body of POST
// /clients) and the "client" member of a client document.
type ClientInfo struct {
	ClientID          string   `json:"client_id"`
	UUID              string   `json:"uuid,omitempty"`
	Hostname          string   `json:"hostname,omitempty"`
	Description       string   `json:"description"`
	IsCentral         bool     `json:"is_central"`
	SupportedActions  []string `json:"supported_actions,omitempty"`
	SupportedModes    []string `json:"supported_modes,omitempty"`
	SupportedStorages []string `json:"supported_storages,omitempty"`
	SupportedEngines  []string `json:"supported_engines,omitempty"`
}

// Client is a client document (GET /clients/{client_id}, list element).
type Client struct {
	ProjectID string     `json:"project_id"`
	UserID    string     `json:"user_id"`
	Client    ClientInfo `json:"client"`
}

// ClientCreated answers POST /clients.
type ClientCreated struct {
	ClientID string `json:"client_id"`
}

// ClientList is the envelope of GET /clients.
type ClientList struct {
	Clients []Client `json:"clients"`
}

// ---------------------------------------------------------------- backups

// Backup is a backup document. The body of POST /backups is the
// BackupMetadata itself (flat), optionally with a "status" key.
type Backup struct {
	BackupID       string         `json:"backup_id"`
	ProjectID      string         `json:"project_id"`
	UserID         string         `json:"user_id"`
	Status         string         `json:"status"`
	BackupMetadata BackupMetadata `json:"backup_metadata"`
}

// BackupMetadata is the open-ended description an agent uploads after a
// backup (container, hostname, backup_name, time_stamp, level, ...).
// Unknown keys are kept verbatim.
type BackupMetadata map[string]any

// String returns the key's value if it is a string, else "".
func (m BackupMetadata) String(key string) string { return mapString(m, key) }

// Int returns the key's value as an integer (JSON number or numeric string).
func (m BackupMetadata) Int(key string) (int64, bool) { return mapInt(m, key) }

// Bool returns the key's value as a boolean.
func (m BackupMetadata) Bool(key string) (bool, bool) { return mapBool(m, key) }

// TimeStamp is backup_metadata.time_stamp (epoch seconds), 0 if absent.
func (m BackupMetadata) TimeStamp() int64 { v, _ := m.Int("time_stamp"); return v }

// BackupPatch is the body of PATCH /backups/{id}: Status replaces the
// status, BackupMetadata is merged key by key into the stored metadata.
type BackupPatch struct {
	Status         *string        `json:"status,omitempty"`
	BackupMetadata BackupMetadata `json:"backup_metadata,omitempty"`
}

// BackupCreated answers POST /backups.
type BackupCreated struct {
	BackupID string `json:"backup_id"`
}

// BackupList is the envelope of GET /backups.
type BackupList struct {
	Backups []Backup `json:"backups"`
}

// ---------------------------------------------------------------- search

// Search is the list filter clients send as the JSON body of a GET on a
// collection. Each element of Match and MatchNot is a one-key object
// {field: value}: a document matches when, for every Match entry, the field
// (looked up anywhere in the document) equals the value, and no MatchNot
// entry is equal. A Match entry {"_all": text} is a free-text search, or,
// when text is a JSON list of {field: value} objects, a list of Match
// entries.
type Search struct {
	Match    []map[string]any `json:"match,omitempty"`
	MatchNot []map[string]any `json:"match_not,omitempty"`
}

// ---------------------------------------------------------------- misc

// Error is the JSON body of every error response. RequestID is set on
// server errors so that an operator can find the log entry.
type Error struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
}

// Versions is the document served at GET / (status 300).
type Versions struct {
	Versions []Version `json:"versions"`
}

// Version describes one API version.
type Version struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Updated string `json:"updated"`
	Links   []Link `json:"links"`
}

// Link is a hyperlink in the versions document.
type Link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// FlexInt is an integer that also accepts a numeric string, because the
// freezer CLI sends session tags as strings. Null and "" decode to 0.
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*n = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", s)
		}
		*n = FlexInt(v)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("not an integer: %s", b)
	}
	*n = FlexInt(f)
	return nil
}

func mapString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func mapInt(m map[string]any, key string) (int64, bool) {
	switch v := m[key].(type) {
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= 1<<53 {
			return int64(v), true
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
	case int:
		return int64(v), true
	case int64:
		return v, true
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return i, true
		}
	}
	return 0, false
}

func mapBool(m map[string]any, key string) (bool, bool) {
	switch v := m[key].(type) {
	case bool:
		return v, true
	case float64:
		return v != 0, true
	case string:
		if strings.TrimSpace(v) == "" {
			return false, true
		}
		b, err := config.ParseBool(v)
		return b, err == nil
	}
	return false, false
}

// Marshal encodes v as the API answers: without HTML escaping ("<", ">"
// and "&" as themselves, as upstream's json.dumps) and without the
// trailing newline of json.Encoder.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
