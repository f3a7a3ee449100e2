package schedule

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The APScheduler cron fields, most significant first.
var fieldNames = []string{"year", "month", "day", "week", "day_of_week", "hour", "minute", "second"}

// Defaults for the fields less significant than the last one given; more
// significant fields default to "*". This is APScheduler's rule: "hour=3"
// means 03:00:00 every day, not every second of that hour.
var fieldDefaults = map[string]string{
	"year": "*", "month": "1", "day": "1", "week": "*", "day_of_week": "*",
	"hour": "0", "minute": "0", "second": "0",
}

var fieldRange = map[string][2]int{
	"year": {1970, 9999}, "month": {1, 12}, "day": {1, 31}, "week": {1, 53},
	"day_of_week": {0, 6}, "hour": {0, 23}, "minute": {0, 59}, "second": {0, 59},
}

var monthNames = map[string]int{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}

// APScheduler numbers weekdays from Monday = 0, unlike crontab.
var dayNames = map[string]int{"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

var ordinals = map[string]int{"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": -1}

// expr is one comma-separated part of a field. For plain fields it matches
// a value in [lo, hi] stepping by step; the day field also has "last",
// "<nth> <weekday>" and "last <weekday>", which depend on the month.
type expr struct {
	lo, hi, step int
	nth          int // day field: 1..5, -1 = last; 0 = plain range
	weekday      int // day field with nth: the weekday
	lastDay      bool
}

type field struct {
	name  string
	exprs []expr
}

func (f field) match(v int, t time.Time) bool {
	for _, e := range f.exprs {
		switch {
		case e.lastDay:
			if v == daysIn(t) {
				return true
			}
		case e.nth != 0:
			if v == nthWeekday(t, e.nth, e.weekday) {
				return true
			}
		default:
			if v >= e.lo && v <= e.hi && (v-e.lo)%e.step == 0 {
				return true
			}
		}
	}
	return false
}

func daysIn(t time.Time) int {
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nthWeekday is the day of t's month that is the nth (or, for -1, the last)
// given weekday (Monday = 0), or 0 if the month has no such day.
func nthWeekday(t time.Time, nth, weekday int) int {
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	fwd := (int(first.Weekday()) + 6) % 7 // Monday = 0
	day := 1 + (weekday-fwd+7)%7
	n := daysIn(t)
	if nth == -1 {
		for day+7 <= n {
			day += 7
		}
		return day
	}
	day += (nth - 1) * 7
	if day > n {
		return 0
	}
	return day
}

func parseField(name, spec string) (field, error) {
	f := field{name: name}
	rng := fieldRange[name]
	for _, part := range strings.Split(strings.ToLower(strings.TrimSpace(spec)), ",") {
		part = strings.TrimSpace(part)
		e, err := parseExpr(name, part, rng)
		if err != nil {
			return field{}, fmt.Errorf("invalid schedule_%s %q: %w", name, spec, err)
		}
		f.exprs = append(f.exprs, e)
	}
	return f, nil
}

func parseExpr(name, part string, rng [2]int) (expr, error) {
	if part == "" {
		return expr{}, fmt.Errorf("empty expression")
	}
	if name == "day" {
		if part == "last" {
			return expr{lastDay: true}, nil
		}
		if words := strings.Fields(part); len(words) == 2 {
			nth, ok := ordinals[words[0]]
			wd, ok2 := dayNames[words[1]]
			if !ok || !ok2 {
				return expr{}, fmt.Errorf("want \"<1st..5th|last> <mon..sun>\", got %q", part)
			}
			return expr{nth: nth, weekday: wd}, nil
		}
	}
	e := expr{lo: rng[0], hi: rng[1], step: 1}
	body, stepText, hasStep := strings.Cut(part, "/")
	if hasStep {
		s, err := strconv.Atoi(stepText)
		if err != nil || s <= 0 {
			return expr{}, fmt.Errorf("invalid step %q", stepText)
		}
		e.step = s
	}
	if body != "*" {
		loText, hiText, isRange := strings.Cut(body, "-")
		lo, err := fieldValue(name, loText)
		if err != nil {
			return expr{}, err
		}
		e.lo = lo
		switch {
		case isRange:
			hi, err := fieldValue(name, hiText)
			if err != nil {
				return expr{}, err
			}
			e.hi = hi
		case !hasStep:
			e.hi = lo
		}
	}
	if e.lo < rng[0] || e.hi > rng[1] {
		return expr{}, fmt.Errorf("value out of range %d-%d", rng[0], rng[1])
	}
	if e.lo > e.hi {
		return expr{}, fmt.Errorf("range start %d is after its end %d", e.lo, e.hi)
	}
	return e, nil
}

func fieldValue(name, s string) (int, error) {
	s = strings.TrimSpace(s)
	switch name {
	case "month":
		if v, ok := monthNames[s]; ok {
			return v, nil
		}
	case "day_of_week":
		if v, ok := dayNames[s]; ok {
			return v, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("invalid value %q", s)
	}
	return v, nil
}

type cronTrigger struct {
	fields     map[string]field
	loc        *time.Location
	start, end time.Time
}

func parseCron(values map[string]string, loc *time.Location) (*cronTrigger, error) {
	for k := range values {
		if _, ok := fieldRange[k]; !ok {
			known := append([]string(nil), fieldNames...)
			sort.Strings(known)
			return nil, fmt.Errorf("unknown cron field schedule_%s (known: %s)", k, strings.Join(known, ", "))
		}
	}
	last := -1
	for i, n := range fieldNames {
		if _, ok := values[n]; ok {
			last = i
		}
	}
	c := &cronTrigger{fields: map[string]field{}, loc: loc}
	for i, n := range fieldNames {
		spec, given := values[n]
		if !given {
			spec = "*"
			if i > last {
				spec = fieldDefaults[n]
			}
		}
		f, err := parseField(n, spec)
		if err != nil {
			return nil, err
		}
		c.fields[n] = f
	}
	return c, nil
}

func (c *cronTrigger) Kind() Kind { return KindCron }

func (c *cronTrigger) Next(prev, now time.Time) (time.Time, bool) {
	var from time.Time
	if !prev.IsZero() {
		// Fire times are whole seconds, so the one after prev is at
		// least a second later.
		from = prev.Add(time.Second)
	} else {
		from = now
		if c.start.After(from) {
			from = c.start
		}
	}
	t, ok := c.search(from)
	if !ok || (!c.end.IsZero() && t.After(c.end)) {
		return time.Time{}, false
	}
	return t, true
}

// search finds the first matching second at or after from. It advances the
// most significant mismatching field and resets the less significant ones;
// time.Date normalisation takes care of month lengths and DST.
func (c *cronTrigger) search(from time.Time) (time.Time, bool) {
	t := from.In(c.loc)
	if t.Nanosecond() != 0 {
		t = t.Truncate(time.Second).Add(time.Second)
	}
	for i := 0; i < 5_000_000; i++ {
		y, mo, d := t.Date()
		h, mi, s := t.Clock()
		if y > fieldRange["year"][1] {
			return time.Time{}, false
		}
		switch {
		case !c.fields["year"].match(y, t):
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, c.loc)
		case !c.fields["month"].match(int(mo), t):
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, c.loc)
		case !c.fields["day"].match(d, t) || !c.fields["week"].match(isoWeek(t), t) ||
			!c.fields["day_of_week"].match((int(t.Weekday())+6)%7, t):
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, c.loc)
		case !c.fields["hour"].match(h, t):
			t = time.Date(y, mo, d, h+1, 0, 0, 0, c.loc)
		case !c.fields["minute"].match(mi, t):
			t = time.Date(y, mo, d, h, mi+1, 0, 0, c.loc)
		case !c.fields["second"].match(s, t):
			t = time.Date(y, mo, d, h, mi, s+1, 0, c.loc)
		default:
			return t, true
		}
		if t.Before(from) {
			// A DST fold can take time.Date backwards; step past it.
			t = from.Add(time.Second).Truncate(time.Second)
			from = t
		}
	}
	return time.Time{}, false
}

func isoWeek(t time.Time) int {
	_, w := t.ISOWeek()
	return w
}
