package schedule

import (
	"strings"
	"testing"
	"time"
)

var utc = time.UTC

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02T15:04:05", s, utc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fires returns the first n fire times of spec as seen at now.
func fires(t *testing.T, spec Spec, now time.Time, n int) []string {
	t.Helper()
	tr, err := Parse(spec, now, utc)
	if err != nil {
		t.Fatalf("Parse(%+v): %v", spec, err)
	}
	var out []string
	var prev time.Time
	for i := 0; i < n; i++ {
		next, ok := tr.Next(prev, now)
		if !ok {
			break
		}
		out = append(out, next.Format("2006-01-02T15:04:05 Mon"))
		prev = next
	}
	return out
}

func TestParseTriggers(t *testing.T) {
	now := mustTime(t, "2026-03-10T12:00:00") // a Tuesday
	cases := []struct {
		name string
		spec Spec
		want []string
		kind Kind
	}{
		{"no schedule runs two seconds from now", Spec{}, []string{"2026-03-10T12:00:02 Tue"}, KindDate},
		{"date", Spec{Date: "2026-03-11T08:30:00"}, []string{"2026-03-11T08:30:00 Wed"}, KindDate},
		{"date in the past is kept (misfire decides)", Spec{Date: "2026-03-10T11:30:00"}, []string{"2026-03-10T11:30:00 Tue"}, KindDate},
		{"date wins over interval", Spec{Date: "2026-03-11T08:30:00", Interval: "5 minutes"}, []string{"2026-03-11T08:30:00 Wed"}, KindDate},
		{"interval without start begins one interval from now", Spec{Interval: "5 minutes"},
			[]string{"2026-03-10T12:05:00 Tue", "2026-03-10T12:10:00 Tue", "2026-03-10T12:15:00 Tue"}, KindInterval},
		{"continuous is every second", Spec{Interval: "continuous"},
			[]string{"2026-03-10T12:00:01 Tue", "2026-03-10T12:00:02 Tue"}, KindInterval},
		{"interval with future start", Spec{Interval: "2 days", StartDate: "2026-03-12T01:00:00"},
			[]string{"2026-03-12T01:00:00 Thu", "2026-03-14T01:00:00 Sat"}, KindInterval},
		{"interval with past start starts in two seconds", Spec{Interval: "1 hours", StartDate: "2020-01-01T00:00:00"},
			[]string{"2026-03-10T12:00:02 Tue", "2026-03-10T13:00:02 Tue"}, KindInterval},
		{"interval stops at end date", Spec{Interval: "1 weeks", StartDate: "2026-03-11T00:00:00", EndDate: "2026-03-20T00:00:00"},
			[]string{"2026-03-11T00:00:00 Wed", "2026-03-18T00:00:00 Wed"}, KindInterval},
		{"end before start is dropped", Spec{Interval: "1 days", StartDate: "2026-03-11T00:00:00", EndDate: "2026-03-01T00:00:00"},
			[]string{"2026-03-11T00:00:00 Wed", "2026-03-12T00:00:00 Thu", "2026-03-13T00:00:00 Fri"}, KindInterval},
		{"cron hour only defaults lower fields to zero", Spec{Cron: map[string]string{"hour": "3"}},
			[]string{"2026-03-11T03:00:00 Wed", "2026-03-12T03:00:00 Thu"}, KindCron},
		{"cron minute step", Spec{Cron: map[string]string{"minute": "*/20"}},
			[]string{"2026-03-10T12:00:00 Tue", "2026-03-10T12:20:00 Tue", "2026-03-10T12:40:00 Tue"}, KindCron},
		{"cron weekday names, Monday is 0", Spec{Cron: map[string]string{"day_of_week": "mon-fri", "hour": "22", "minute": "30"}},
			[]string{"2026-03-10T22:30:00 Tue", "2026-03-11T22:30:00 Wed", "2026-03-12T22:30:00 Thu", "2026-03-13T22:30:00 Fri", "2026-03-16T22:30:00 Mon"}, KindCron},
		{"cron numeric weekday", Spec{Cron: map[string]string{"day_of_week": "6", "hour": "1"}},
			[]string{"2026-03-15T01:00:00 Sun", "2026-03-22T01:00:00 Sun"}, KindCron},
		{"cron last day of month", Spec{Cron: map[string]string{"day": "last"}},
			[]string{"2026-03-31T00:00:00 Tue", "2026-04-30T00:00:00 Thu", "2026-05-31T00:00:00 Sun"}, KindCron},
		{"cron second friday", Spec{Cron: map[string]string{"day": "2nd fri", "hour": "4"}},
			[]string{"2026-03-13T04:00:00 Fri", "2026-04-10T04:00:00 Fri"}, KindCron},
		{"cron last sunday, month names", Spec{Cron: map[string]string{"month": "mar,oct", "day": "last sun"}},
			[]string{"2026-03-29T00:00:00 Sun", "2026-10-25T00:00:00 Sun", "2027-03-28T00:00:00 Sun"}, KindCron},
		{"cron feb 29 skips to the leap year", Spec{Cron: map[string]string{"month": "2", "day": "29"}},
			[]string{"2028-02-29T00:00:00 Tue", "2032-02-29T00:00:00 Sun"}, KindCron},
		{"cron year", Spec{Cron: map[string]string{"year": "2027", "month": "6-7/1", "day": "1,15"}},
			[]string{"2027-06-01T00:00:00 Tue", "2027-06-15T00:00:00 Tue", "2027-07-01T00:00:00 Thu", "2027-07-15T00:00:00 Thu"}, KindCron},
		{"cron iso week", Spec{Cron: map[string]string{"week": "12", "day_of_week": "mon"}},
			[]string{"2026-03-16T00:00:00 Mon", "2027-03-22T00:00:00 Mon"}, KindCron},
		{"cron with start and end", Spec{Cron: map[string]string{"hour": "*/12"}, StartDate: "2026-03-12T00:00:00", EndDate: "2026-03-13T00:00:00"},
			[]string{"2026-03-12T00:00:00 Thu", "2026-03-12T12:00:00 Thu", "2026-03-13T00:00:00 Fri"}, KindCron},
		{"cron a/step runs to the field maximum", Spec{Cron: map[string]string{"second": "50/5"}},
			[]string{"2026-03-10T12:00:50 Tue", "2026-03-10T12:00:55 Tue", "2026-03-10T12:01:50 Tue"}, KindCron},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := Parse(c.spec, now, utc)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Kind() != c.kind {
				t.Errorf("kind = %s, want %s", tr.Kind(), c.kind)
			}
			got := fires(t, c.spec, now, 5)
			// Date triggers and the cases that reach their end date
			// must stop; the others are compared on their first fires.
			ends := c.kind == KindDate || strings.Contains(c.name, "end date") || strings.Contains(c.name, "start and end")
			if !ends && len(got) > len(c.want) {
				got = got[:len(c.want)]
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("fire times\n got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	now := mustTime(t, "2026-03-10T12:00:00")
	bad := []Spec{
		{Date: "tomorrow"},
		{Interval: "5 fortnights"},
		{Interval: "-1 days"},
		{Interval: "minutes"},
		{StartDate: "2026-13-01T00:00:00", Interval: "1 days"},
		{Interval: "1 days", StartDate: "2026-03-11T00:00:00", EndDate: "never"},
		{Cron: map[string]string{"hour": "25"}},
		{Cron: map[string]string{"minute": "5-1"}},
		{Cron: map[string]string{"day_of_week": "funday"}},
		{Cron: map[string]string{"day": "6th mon"}},
		{Cron: map[string]string{"minute": "*/0"}},
		{Cron: map[string]string{"minute": "1,,2"}},
		{Cron: map[string]string{"fortnight": "1"}},
		{Cron: map[string]string{"year": "1900"}},
	}
	for _, s := range bad {
		if _, err := Parse(s, now, utc); err == nil {
			t.Errorf("Parse(%+v) succeeded, want an error", s)
		}
	}
}

func TestParseIntervalUnits(t *testing.T) {
	cases := map[string]time.Duration{
		"continuous": time.Second, "1 weeks": 7 * 24 * time.Hour, "3 days": 72 * time.Hour,
		"2 hours": 2 * time.Hour, "10  minutes": 10 * time.Minute, "45 seconds": 45 * time.Second,
		"1 day": 24 * time.Hour, "0 seconds": time.Second,
	}
	for in, want := range cases {
		got, err := ParseInterval(in)
		if err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// n*unit must fit in a time.Duration: a product that wraps would be a
// negative or tiny interval whose fire times lie in the past for ever.
func TestParseIntervalRejectsOverflow(t *testing.T) {
	for _, in := range []string{"15251 weeks", "300000 days", "106752 days", "2562048 hours", "100000001 seconds",
		"99999999999999999999 seconds"} {
		if d, err := ParseInterval(in); err == nil {
			t.Errorf("ParseInterval(%q) = %v, want an error", in, d)
		} else if !strings.Contains(err.Error(), "out of range") {
			t.Errorf("ParseInterval(%q): %v, want \"out of range\"", in, err)
		}
		if _, err := Parse(Spec{Interval: in}, mustTime(t, "2026-03-10T12:00:00"), utc); err == nil {
			t.Errorf("Parse(interval %q) succeeded, want an error", in)
		}
	}
	// The largest intervals that fit are still accepted.
	for in, want := range map[string]time.Duration{"15250 weeks": 15250 * 7 * 24 * time.Hour,
		"106751 days": 106751 * 24 * time.Hour, "100000000 seconds": 1e8 * time.Second} {
		if got, err := ParseInterval(in); err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestParseDateForms(t *testing.T) {
	loc := time.FixedZone("X", 3600)
	cases := map[string]string{
		"2026-03-10T12:00:00":        "2026-03-10T12:00:00+01:00",
		"2026-03-10T12:00:00.5":      "2026-03-10T12:00:00.5+01:00",
		"2026-03-10T12:00:00Z":       "2026-03-10T12:00:00Z",
		"2026-03-10T12:00:00-05:00":  "2026-03-10T12:00:00-05:00",
		"2026-03-10 12:00:00":        "2026-03-10T12:00:00+01:00",
		"2026-03-10":                 "2026-03-10T00:00:00+01:00",
		" 2026-03-10T12:00:00+02:00": "2026-03-10T12:00:00+02:00",
	}
	for in, want := range cases {
		got, err := ParseDate(in, loc)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", in, err)
			continue
		}
		if got.Format(time.RFC3339Nano) != want {
			t.Errorf("ParseDate(%q) = %s, want %s", in, got.Format(time.RFC3339Nano), want)
		}
	}
}

func TestDueCoalescesAndMisfires(t *testing.T) {
	start := mustTime(t, "2026-03-10T12:00:00")
	tr, err := Parse(Spec{Interval: "10 minutes", StartDate: "2026-03-10T12:05:00"}, start, utc)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := tr.Next(time.Time{}, start)
	if got := first.Format("15:04:05"); got != "12:05:00" {
		t.Fatalf("first = %s", got)
	}

	// Not yet due.
	if run, _, following, _ := Due(tr, first, start, DefaultMisfireGrace); run || !following.Equal(first) {
		t.Errorf("not-yet-due job reported run=%v following=%s", run, following)
	}

	// 35 minutes late: three slots missed, one coalesced run at the latest
	// slot, then the grid continues.
	now := mustTime(t, "2026-03-10T12:40:30")
	run, fire, following, more := Due(tr, first, now, DefaultMisfireGrace)
	if !run || fire.Format("15:04:05") != "12:35:00" || following.Format("15:04:05") != "12:45:00" || !more {
		t.Errorf("coalesce: run=%v fire=%s following=%s more=%v", run, fire.Format("15:04:05"), following.Format("15:04:05"), more)
	}

	// A one-shot date more than the grace late is skipped and never fires again.
	d, _ := Parse(Spec{Date: "2026-03-10T10:00:00"}, start, utc)
	at, _ := d.Next(time.Time{}, start)
	run, _, _, more = Due(d, at, start, DefaultMisfireGrace)
	if run || more {
		t.Errorf("misfired date: run=%v more=%v, want false,false", run, more)
	}
	// Within the grace it runs once.
	d, _ = Parse(Spec{Date: "2026-03-10T11:30:00"}, start, utc)
	at, _ = d.Next(time.Time{}, start)
	run, _, _, more = Due(d, at, start, DefaultMisfireGrace)
	if !run || more {
		t.Errorf("late date within grace: run=%v more=%v, want true,false", run, more)
	}
	if !IsOneShot(d) || IsOneShot(tr) {
		t.Error("IsOneShot wrong")
	}
}

func TestCronDSTGap(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata for Europe/Berlin: ", err) // tzdata is a system package, not ours
	}
	now := time.Date(2026, 3, 28, 12, 0, 0, 0, loc)
	tr, err := Parse(Spec{Cron: map[string]string{"hour": "2", "minute": "30"}}, now, loc)
	if err != nil {
		t.Fatal(err)
	}
	var prev time.Time
	var got []string
	for i := 0; i < 3; i++ {
		n, ok := tr.Next(prev, now)
		if !ok {
			t.Fatal("no next")
		}
		if !n.After(prev) {
			t.Fatalf("fire times not increasing: %s after %s", n, prev)
		}
		got = append(got, n.Format("01-02T15:04 MST"))
		prev = n
	}
	// 2026-03-29 02:30 does not exist in Berlin: that day has no run, the
	// others keep their wall-clock time.
	want := "03-30T02:30 CEST|03-31T02:30 CEST|04-01T02:30 CEST"
	if strings.Join(got, "|") != want {
		t.Errorf("fire times around the DST gap: %v, want %s", got, want)
	}
}

func TestDueCoalescesCronRuns(t *testing.T) {
	start := mustTime(t, "2026-03-10T12:00:00")
	tr, err := Parse(Spec{Cron: map[string]string{"minute": "*/15"}}, start, utc)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := tr.Next(time.Time{}, start)
	// The machine slept for 50 minutes: one run, for the 12:45 slot, then 13:00.
	run, fire, following, more := Due(tr, first, mustTime(t, "2026-03-10T12:50:00"), DefaultMisfireGrace)
	if !run || fire.Format("15:04") != "12:45" || following.Format("15:04") != "13:00" || !more {
		t.Errorf("run=%v fire=%s following=%s more=%v", run, fire.Format("15:04"), following.Format("15:04"), more)
	}
	// With a 5 minute grace, a slot missed by 10 minutes is skipped.
	run, _, following, _ = Due(tr, first, mustTime(t, "2026-03-10T12:55:00"), 5*time.Minute)
	if run || following.Format("15:04") != "13:00" {
		t.Errorf("late slot: run=%v following=%s", run, following.Format("15:04"))
	}
}
