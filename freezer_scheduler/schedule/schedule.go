package schedule

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultMisfireGrace is how late a run may start and still happen; upstream
// passes misfire_grace_time=3600 to APScheduler for every job.
const DefaultMisfireGrace = time.Hour

// startDelay is upstream's "a few seconds from now" for jobs without a
// schedule and for start dates already in the past.
const startDelay = 2 * time.Second

// Spec is the scheduling part of a job_schedule document. Empty strings mean
// "not set". Cron holds the schedule_<field> values keyed by the APScheduler
// field name (year, month, day, week, day_of_week, hour, minute, second).
type Spec struct {
	Date      string
	Interval  string
	StartDate string
	EndDate   string
	Cron      map[string]string
}

// Kind names the trigger a Spec selects.
type Kind string

// The trigger kinds, named as APScheduler names them.
const (
	KindDate     Kind = "date"
	KindInterval Kind = "interval"
	KindCron     Kind = "cron"
)

// Trigger computes fire times. Next returns the first fire time after prev
// (the previous fire time), or, when prev is the zero time, the first fire
// time at or after now; ok is false when the trigger will never fire again.
type Trigger interface {
	Next(prev, now time.Time) (t time.Time, ok bool)
	Kind() Kind
}

// IsOneShot reports whether the trigger fires at most once; a job with such
// a trigger is "completed" after its run, not "scheduled" again.
func IsOneShot(t Trigger) bool { return t.Kind() == KindDate }

// Parse builds the trigger for spec as seen at now. Dates without a zone are
// read in loc, as upstream reads naive datetimes in the host's local zone.
func Parse(spec Spec, now time.Time, loc *time.Location) (Trigger, error) {
	if loc == nil {
		loc = time.Local
	}
	now = now.In(loc)
	if spec.Date != "" {
		d, err := ParseDate(spec.Date, loc)
		if err != nil {
			return nil, fmt.Errorf("parsing schedule_date: %w", err)
		}
		return &dateTrigger{at: d}, nil
	}
	var start, end time.Time
	if spec.StartDate != "" {
		s, err := ParseDate(spec.StartDate, loc)
		if err != nil {
			return nil, fmt.Errorf("parsing schedule_start_date: %w", err)
		}
		start = s
		if !start.After(now) {
			start = now.Add(startDelay)
		}
		if spec.EndDate != "" {
			e, err := ParseDate(spec.EndDate, loc)
			if err != nil {
				return nil, fmt.Errorf("parsing schedule_end_date: %w", err)
			}
			// Upstream compares the configured dates (not the adjusted
			// start) and drops an end date that comes first.
			if !s.After(e) {
				end = e
			}
		}
	}
	if spec.Interval != "" {
		iv, err := ParseInterval(spec.Interval)
		if err != nil {
			return nil, err
		}
		if start.IsZero() {
			// APScheduler's IntervalTrigger starts one interval from now.
			start = now.Add(iv)
		}
		return &intervalTrigger{every: iv, start: start, end: end}, nil
	}
	if len(cronFields(spec.Cron)) > 0 {
		c, err := parseCron(cronFields(spec.Cron), loc)
		if err != nil {
			return nil, err
		}
		c.start, c.end = start, end
		return c, nil
	}
	return &dateTrigger{at: now.Add(startDelay)}, nil
}

func cronFields(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.TrimSpace(v) != "" {
			out[k] = v
		}
	}
	return out
}

var intervalRE = regexp.MustCompile(`^\s*(\d+)\s+(week|day|hour|minute|second)s?\s*$`)

// ParseInterval parses "continuous" (one second) or "<N> weeks|days|hours|
// minutes|seconds". A zero interval becomes one second, as in APScheduler.
func ParseInterval(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "continuous" {
		return time.Second, nil
	}
	m := intervalRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid schedule_interval %q: want \"continuous\" or \"<N> weeks|days|hours|minutes|seconds\"", s)
	}
	unit := map[string]time.Duration{
		"week": 7 * 24 * time.Hour, "day": 24 * time.Hour, "hour": time.Hour,
		"minute": time.Minute, "second": time.Second,
	}[m[2]]
	n, err := strconv.ParseInt(m[1], 10, 64)
	// The bound depends on the unit: n*unit must fit in a Duration, or the
	// product wraps (15251 weeks is negative) and the job's next fire time
	// lies in the past for ever, which makes the dispatch loop spin.
	if limit := min(1e8, math.MaxInt64/int64(unit)); err != nil || n > limit {
		return 0, fmt.Errorf("invalid schedule_interval %q: number out of range (at most %d %ss)", s, limit, m[2])
	}
	if n == 0 {
		return time.Second, nil
	}
	return time.Duration(n) * unit, nil
}

var dateLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseDate parses the dates freezer job documents carry
// ("%Y-%m-%dT%H:%M:%S", optionally with a fraction and a zone). A date
// without a zone is read in loc.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty date")
	}
	for _, l := range dateLayouts {
		var t time.Time
		var err error
		if strings.Contains(l, "Z07:00") {
			t, err = time.Parse(l, s)
		} else {
			t, err = time.ParseInLocation(l, s, loc)
		}
		if err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date %q: want YYYY-MM-DDThh:mm:ss", s)
}

type dateTrigger struct{ at time.Time }

func (d *dateTrigger) Kind() Kind { return KindDate }

func (d *dateTrigger) Next(prev, _ time.Time) (time.Time, bool) {
	if !prev.IsZero() {
		return time.Time{}, false
	}
	return d.at, true
}

type intervalTrigger struct {
	every      time.Duration
	start, end time.Time
}

func (t *intervalTrigger) Kind() Kind { return KindInterval }

func (t *intervalTrigger) Next(prev, now time.Time) (time.Time, bool) {
	var next time.Time
	switch {
	case !prev.IsZero():
		next = prev.Add(t.every)
	case t.start.After(now):
		next = t.start
	default:
		// The first grid point at or after now, as APScheduler computes it.
		n := (now.Sub(t.start) + t.every - 1) / t.every
		next = t.start.Add(n * t.every)
	}
	if !t.end.IsZero() && next.After(t.end) {
		return time.Time{}, false
	}
	return next, true
}

// Due decides what a scheduler loop does with a job whose trigger fired at
// next while the clock says now: run it (possibly late, once for all the
// runs it missed), or skip it as misfired. It returns the fire time to
// report and the following fire time, computed from the latest missed slot
// so that missed runs coalesce into one.
func Due(t Trigger, next, now time.Time, grace time.Duration) (run bool, fire time.Time, following time.Time, more bool) {
	if now.Before(next) {
		return false, time.Time{}, next, true
	}
	// Walk to the latest fire time that is not in the future.
	fire = next
	for i := 0; i < 1_000_000; i++ {
		n, ok := t.Next(fire, now)
		if !ok || n.After(now) {
			break
		}
		fire = n
	}
	run = now.Sub(fire) <= grace
	following, more = t.Next(fire, now)
	return run, fire, following, more
}
