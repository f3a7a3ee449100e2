package server

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// A tiny JSON-schema subset, enough for the v2 documents. Messages follow
// Python jsonschema's wording, which upstream returns as the description
// of a 400 and which clients may show to users.

type kind int

const (
	kAny kind = iota
	kString
	kStringOrNull
	kInteger
	kBoolean
	kObject
	kObjectOrNull
	kArray
)

func (k kind) String() string {
	switch k {
	case kString:
		return "'string'"
	case kStringOrNull:
		return "['string', 'null']"
	case kInteger:
		return "'integer'"
	case kBoolean:
		return "'boolean'"
	case kObject:
		return "'object'"
	case kObjectOrNull:
		return "['object', 'null']"
	case kArray:
		return "'array'"
	}
	return "'any'"
}

type field struct {
	kind     kind
	enum     []string
	pattern  *regexp.Regexp
	maxLen   int
	nonEmpty bool
	object   *schema // for kObject
	items    *field  // for kArray
}

type schema struct {
	fields   map[string]field
	required []string
	closed   bool // additionalProperties: false
}

type validationError struct{ msg string }

func (e *validationError) Error() string { return e.msg }

func invalid(format string, a ...any) error { return &validationError{fmt.Sprintf(format, a...)} }

func pyRepr(v any) string {
	switch x := v.(type) {
	case string:
		return "'" + x + "'"
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	}
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		b = append(b[:77], "..."...)
	}
	return string(b)
}

func (s *schema) validate(m map[string]any) error {
	for _, r := range s.required {
		if _, ok := m[r]; !ok {
			return invalid("'%s' is a required property", r)
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if s.closed {
		var extra []string
		for _, k := range keys {
			if _, ok := s.fields[k]; !ok {
				extra = append(extra, "'"+k+"'")
			}
		}
		if len(extra) == 1 {
			return invalid("Additional properties are not allowed (%s was unexpected)", extra[0])
		} else if len(extra) > 1 {
			return invalid("Additional properties are not allowed (%s were unexpected)", strings.Join(extra, ", "))
		}
	}
	for _, k := range keys {
		f, ok := s.fields[k]
		if !ok {
			continue
		}
		if err := f.check(m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (f field) check(v any) error {
	switch f.kind {
	case kString, kStringOrNull:
		if v == nil && f.kind == kStringOrNull {
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return invalid("%s is not of type %s", pyRepr(v), f.kind)
		}
		if f.nonEmpty && s == "" {
			return invalid("'' is too short")
		}
		if f.maxLen > 0 && len(s) > f.maxLen {
			return invalid("%s is too long", pyRepr(s))
		}
		if f.pattern != nil && !f.pattern.MatchString(s) {
			return invalid("%s does not match '%s'", pyRepr(s), f.pattern.String())
		}
		if f.enum != nil && !contains(f.enum, s) {
			return invalid("%s is not one of %s", pyRepr(s), pyList(f.enum))
		}
	case kInteger:
		n, ok := v.(json.Number)
		if !ok {
			return invalid("%s is not of type 'integer'", pyRepr(v))
		}
		if _, err := n.Int64(); err != nil {
			return invalid("%s is not of type 'integer'", pyRepr(v))
		}
	case kBoolean:
		if _, ok := v.(bool); !ok {
			return invalid("%s is not of type 'boolean'", pyRepr(v))
		}
	case kObject, kObjectOrNull:
		if v == nil && f.kind == kObjectOrNull {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return invalid("%s is not of type 'object'", pyRepr(v))
		}
		if f.object != nil {
			return f.object.validate(m)
		}
	case kArray:
		a, ok := v.([]any)
		if !ok {
			return invalid("%s is not of type 'array'", pyRepr(v))
		}
		if f.items != nil {
			for _, e := range a {
				if err := f.items.check(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func pyList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

var (
	idPattern       = regexp.MustCompile(`^[\w-]+$`)
	optIDPattern    = regexp.MustCompile(`^[\w-]*$`)
	fqdn            = `(?:[a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d-]{0,61}[a-zA-Z\d])(?:\.(?:[a-zA-Z\d]|[a-zA-Z\d][a-zA-Z\d-]{0,61}[a-zA-Z\d]))*`
	clientIDPattern = regexp.MustCompile(`^(?:([\w\-]+)\_)?` + fqdn + `$`)
	hostnamePattern = regexp.MustCompile(fqdn)
	datePattern     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$`)
	intervalPattern = regexp.MustCompile(`^(continuous|(\d+ +(weeks|days|hours|minutes|seconds)))$`)
	yearPattern     = regexp.MustCompile(`^\d{4}$`)
	maxIDLen        = 64
	actionSchema    = newActionSchema(true)
	actionPatchSch  = newActionPatchSchema()
	jobSchema       = newJobSchema(true)
	jobPatchSchema  = newJobSchema(false)
	sessionSchema   = newSessionSchema(true)
	sessionPatchSch = newSessionSchema(false)
	clientSchema    = newClientSchema()
	backupPatchSch  = &schema{fields: map[string]field{"status": {kind: kString, enum: apiv2.BackupStatuses()}, "backup_metadata": {kind: kObject}}}
	sessionStartSch = &schema{required: []string{"job_id", "current_tag"}, fields: map[string]field{"job_id": {kind: kString}}}
	sessionEndSch   = &schema{required: []string{"job_id", "result"}, fields: map[string]field{"job_id": {kind: kString}, "result": {kind: kString}}}
)

func newScheduleSchema() *schema {
	f := map[string]field{
		"time_created": {kind: kInteger}, "time_started": {kind: kInteger}, "time_ended": {kind: kInteger},
		"current_pid":   {kind: kInteger},
		"event":         {kind: kString, enum: apiv2.ScheduleEvents()},
		"status":        {kind: kString, enum: apiv2.ScheduleStatuses()},
		"result":        {kind: kString, enum: apiv2.ScheduleResults()},
		"schedule_date": {kind: kString, pattern: datePattern}, "schedule_start_date": {kind: kString, pattern: datePattern},
		"schedule_end_date": {kind: kString, pattern: datePattern},
		"schedule_interval": {kind: kString, pattern: intervalPattern},
		"schedule_year":     {kind: kString, pattern: yearPattern},
	}
	for _, k := range []string{"schedule_month", "schedule_day", "schedule_week", "schedule_day_of_week", "schedule_hour", "schedule_minute", "schedule_second"} {
		f[k] = field{kind: kString}
	}
	return &schema{fields: f, closed: true}
}

func newActionSchema(requireFA bool) *schema {
	s := &schema{fields: map[string]field{
		"action_id":            {kind: kString, pattern: idPattern, maxLen: maxIDLen},
		"freezer_action":       {kind: kObject, object: newFreezerActionSchema()},
		"max_retries":          {kind: kInteger},
		"max_retries_interval": {kind: kInteger},
		"mandatory":            {kind: kBoolean},
	}}
	if requireFA {
		s.required = []string{"freezer_action"}
	}
	return s
}

// newActionPatchSchema is the body of PATCH /actions/{id}: a partial
// freezer_action is merged into the stored one (as upstream does), so its
// "action" may be left out.
func newActionPatchSchema() *schema {
	s := newActionSchema(false)
	fa := newFreezerActionSchema()
	fa.required = nil
	s.fields["freezer_action"] = field{kind: kObject, object: fa}
	return s
}

// newFreezerActionSchema checks only what the store needs: freezer_action
// is open-ended, but its "action" names what the agent runs.
func newFreezerActionSchema() *schema {
	return &schema{required: []string{"action"}, fields: map[string]field{"action": {kind: kString, nonEmpty: true, maxLen: 255}}}
}

func newJobSchema(create bool) *schema {
	s := &schema{closed: true, fields: map[string]field{
		"job_actions":      {kind: kArray, items: &field{kind: kObject, object: newActionSchema(false)}},
		"job_schedule":     {kind: kObject, object: newScheduleSchema()},
		"job_id":           {kind: kString, pattern: idPattern, maxLen: maxIDLen},
		"client_id":        {kind: kString, pattern: clientIDPattern, maxLen: 255},
		"session_id":       {kind: kStringOrNull, pattern: optIDPattern, maxLen: maxIDLen},
		"session_tag":      {kind: kInteger},
		"session_name":     {kind: kStringOrNull},
		"user_id":          {kind: kAny},
		"project_id":       {kind: kAny},
		"description":      {kind: kStringOrNull},
		"_version":         {kind: kAny},
		"action_defaults":  {kind: kObject},
		"user_credentials": {kind: kAny},
	}}
	if create {
		s.required = []string{"job_actions", "client_id"}
	}
	return s
}

func newSessionSchema(create bool) *schema {
	s := &schema{fields: map[string]field{
		"session_id":   {kind: kAny},
		"project_id":   {kind: kAny},
		"user_id":      {kind: kAny},
		"session_tag":  {kind: kInteger},
		"hold_off":     {kind: kInteger},
		"description":  {kind: kStringOrNull},
		"status":       {kind: kStringOrNull, maxLen: 64},
		"result":       {kind: kStringOrNull, maxLen: 64},
		"time_start":   {kind: kInteger},
		"time_end":     {kind: kInteger},
		"time_started": {kind: kInteger},
		"time_ended":   {kind: kInteger},
		"schedule":     {kind: kObject, object: newScheduleSchema()},
		"jobs":         {kind: kAny},
		"last_start":   {kind: kAny},
		"_version":     {kind: kAny},
		"session_name": {kind: kAny},
	}}
	if create {
		s.required = []string{"schedule"}
	} else {
		s.closed = true
		s.fields["jobs"] = field{kind: kObjectOrNull}
	}
	return s
}

func newClientSchema() *schema {
	list := func(values []string) field {
		return field{kind: kArray, items: &field{kind: kString, enum: values}}
	}
	return &schema{required: []string{"client_id"}, fields: map[string]field{
		"client_id":          {kind: kString, pattern: clientIDPattern, maxLen: 255},
		"hostname":           {kind: kString, pattern: hostnamePattern, maxLen: 255},
		"description":        {kind: kStringOrNull},
		"uuid":               {kind: kString, pattern: idPattern, maxLen: maxIDLen},
		"is_central":         {kind: kBoolean},
		"supported_actions":  list(apiv2.KnownActions()),
		"supported_modes":    list(apiv2.SupportedModes()),
		"supported_storages": list(apiv2.SupportedStorages()),
		"supported_engines":  list(apiv2.SupportedEngines()),
	}}
}
