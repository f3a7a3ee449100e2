package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// Cond is one {key: value} condition, already in canonical form.
type Cond struct {
	Key   string
	Value string
}

// Filter is a parsed search: every Match must hold, no MatchNot may hold,
// and every Text needle must occur (case-insensitively) in some string
// value of the document.
type Filter struct {
	Match    []Cond
	MatchNot []Cond
	Text     []string
	NotText  []string
}

// Page is a window of a list.
type Page struct {
	Limit  int
	Offset int
}

// ParseSearch turns a search body into a Filter.
//
// Upstream semantics are kept for explicit keys (exact, type-sensitive
// equality of the key found anywhere in the document; all match entries
// ANDed; a document is excluded if any match_not entry is equal). Two
// upstream defects are fixed: a {"_all": text} entry is free text (a
// case-insensitive substring of any string value) unless text is a JSON
// list of {key: value} objects, which are then added to the match
// entries; and an _all entry no longer discards the other entries.
func ParseSearch(s apiv2.Search) Filter {
	var f Filter
	add := func(entries []map[string]any, not bool) {
		for _, e := range entries {
			keys := make([]string, 0, len(e))
			for k := range e {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v := e[k]
				if k == "_all" {
					conds, text := parseAll(v)
					if not {
						f.MatchNot = append(f.MatchNot, conds...)
						f.NotText = append(f.NotText, text...)
					} else {
						f.Match = append(f.Match, conds...)
						f.Text = append(f.Text, text...)
					}
					continue
				}
				c := Cond{Key: termKey(k), Value: canonical(normalize(v))}
				if not {
					f.MatchNot = append(f.MatchNot, c)
				} else {
					f.Match = append(f.Match, c)
				}
			}
		}
	}
	add(s.Match, false)
	add(s.MatchNot, true)
	return f
}

func parseAll(v any) ([]Cond, []string) {
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "[") {
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		var list []map[string]any
		if err := dec.Decode(&list); err == nil {
			inner := ParseSearch(apiv2.Search{Match: list})
			return inner.Match, inner.Text
		}
	}
	if s == "" {
		return nil, nil
	}
	return nil, []string{strings.ToLower(s)}
}

// normalize re-decodes a value with UseNumber so that numbers that came
// through a float64 decoder compare like the stored ones.
func normalize(v any) any {
	switch v.(type) {
	case map[string]any, []any, float64:
		b, err := json.Marshal(v)
		if err != nil {
			return v
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var out any
		if dec.Decode(&out) == nil {
			return out
		}
	}
	return v
}

// likePattern escapes a needle for LIKE ... ESCAPE '!'.
func likePattern(needle string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(needle) + "%"
}

// jobStatusColumns are search keys whose term is always the value of a
// jobs column: every job is indexed with job_schedule.status and .event
// (empty when the schedule has none, reindexJob), no other object at that
// depth has those keys, and a term keeps the shallowest occurrence;
// setSchedule writes the same values ("" for an absent key) to the
// columns. A match_not on them is a column comparison then instead
// of a NOT EXISTS on the terms: MariaDB's CPU per scheduler's poll
// ("client_id X, status not completed") fell from ~840 to ~515 us.
var jobStatusColumns = map[string]string{"status": "d.status", "event": "d.event"}

// where renders the filter as SQL conditions on the document alias "d".
// columns (may be nil) maps keys to columns as jobStatusColumns does.
func (f Filter) where(terms string, columns map[string]string) (string, []any) {
	var b strings.Builder
	var args []any
	for _, c := range f.Match {
		b.WriteString(" AND d.seq IN (SELECT t.doc_seq FROM " + terms + " t WHERE t.k = ? AND t.v = ?)")
		args = append(args, c.Key, c.Value)
	}
	for _, c := range f.MatchNot {
		// Only string values: a term of another type never equals a
		// string column, and the NOT EXISTS below says so.
		if col, ok := columns[c.Key]; ok && strings.HasPrefix(c.Value, "s:") {
			b.WriteString(" AND " + col + " <> ?")
			args = append(args, strings.TrimPrefix(c.Value, "s:"))
			continue
		}
		b.WriteString(" AND NOT EXISTS (SELECT 1 FROM " + terms + " t WHERE t.doc_seq = d.seq AND t.k = ? AND t.v = ?)")
		args = append(args, c.Key, c.Value)
	}
	for _, n := range f.Text {
		b.WriteString(" AND EXISTS (SELECT 1 FROM " + terms + " t WHERE t.doc_seq = d.seq AND t.sv LIKE ? ESCAPE '!')")
		args = append(args, likePattern(n))
	}
	for _, n := range f.NotText {
		b.WriteString(" AND NOT EXISTS (SELECT 1 FROM " + terms + " t WHERE t.doc_seq = d.seq AND t.sv LIKE ? ESCAPE '!')")
		args = append(args, likePattern(n))
	}
	return b.String(), args
}

func (p Page) sql() (string, []any) {
	return " ORDER BY d.seq LIMIT ? OFFSET ?", []any{p.Limit, p.Offset}
}

func (p Page) String() string { return fmt.Sprintf("limit=%d offset=%d", p.Limit, p.Offset) }
