package backup

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// refs builds a listing from "L0/level_ts" strings, in the given (possibly
// unsorted) order, as a storage might return it.
func refs(t *testing.T, specs ...string) []Ref {
	t.Helper()
	var out []Ref
	for _, s := range specs {
		var l0 int64
		var dir string
		if _, err := fmt.Sscanf(strings.Replace(s, "/", " ", 1), "%d %s", &l0, &dir); err != nil {
			t.Fatalf("bad spec %q: %v", s, err)
		}
		lvl, ts, err := ParseLevelDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Ref{Engine: "tar", Name: "h_b", L0: l0, Level: lvl, TS: ts})
	}
	return out
}

func spec(r Ref) string { return fmt.Sprintf("%d/%d_%d", r.L0, r.Level, r.TS) }

func specs(rs []Ref) string {
	var s []string
	for _, r := range rs {
		s = append(s, spec(r))
	}
	return strings.Join(s, " ")
}

func TestNextBackupLevels(t *testing.T) {
	now := time.Unix(1000, 0)
	cases := []struct {
		name     string
		existing []string
		policy   LevelPolicy
		now      time.Time
		want     string // new ref
		prev     string // "" = none
	}{
		{"empty, incremental", nil, LevelPolicy{Incremental: true}, now, "1000/0_1000", ""},
		{"not incremental always level 0", []string{"100/0_100", "100/1_200"}, LevelPolicy{}, now, "1000/0_1000", ""},
		{"climb", []string{"100/0_100", "100/1_200"}, LevelPolicy{Incremental: true}, now, "100/2_1000", "100/1_200"},
		// Storages list in byte order: "9..." sorts after "10...". The
		// newest chain is the numerically largest L0.
		{"numeric chain order", []string{"100/0_100", "90/0_90", "90/1_95"}, LevelPolicy{Incremental: true}, now, "100/1_1000", "100/0_100"},
		{"max level wraps", []string{"100/0_100", "100/1_200", "100/2_300"}, LevelPolicy{Incremental: true, MaxLevel: 2}, now, "1000/0_1000", ""},
		{"max level below", []string{"100/0_100", "100/1_200"}, LevelPolicy{Incremental: true, MaxLevel: 2}, now, "100/2_1000", "100/1_200"},
		{"always level climbs", []string{"100/0_100", "100/1_200"}, LevelPolicy{Incremental: true, AlwaysLevel: 2}, now, "100/2_1000", "100/1_200"},
		{"always level repeats against N-1", []string{"100/0_100", "100/1_200", "100/2_300"}, LevelPolicy{Incremental: true, AlwaysLevel: 2}, now, "100/2_1000", "100/1_200"},
		{"always level above wraps", []string{"100/0_100", "100/1_200", "100/2_300", "100/3_400"}, LevelPolicy{Incremental: true, AlwaysLevel: 2}, now, "1000/0_1000", ""},
		// Same-level backups: the newest by timestamp, whatever the listing order.
		{"newest of a level", []string{"100/2_500", "100/0_100", "100/2_300", "100/1_200"}, LevelPolicy{Incremental: true, MaxLevel: 5}, now, "100/3_1000", "100/2_500"},
		// Upstream measures from the newest backup; a daily backup would never restart.
		{"restart measured from level 0", []string{"100/0_100", "100/1_900"}, LevelPolicy{Incremental: true, AlwaysLevel: 3, RestartAfter: 800 * time.Second}, now, "1000/0_1000", ""},
		{"restart not yet", []string{"100/0_100", "100/1_900"}, LevelPolicy{Incremental: true, AlwaysLevel: 3, RestartAfter: 950 * time.Second}, now, "100/2_1000", "100/1_900"},
		{"gap never extended", []string{"100/0_100", "100/2_300"}, LevelPolicy{Incremental: true}, now, "1000/0_1000", ""},
		{"level 0 missing never extended", []string{"100/1_200", "100/2_300"}, LevelPolicy{Incremental: true}, now, "1000/0_1000", ""},
		{"same second bumps", []string{"1000/0_1000"}, LevelPolicy{Incremental: true}, now, "1000/1_1001", "1000/0_1000"},
		{"same second new chain bumps", []string{"1000/0_1000"}, LevelPolicy{}, now, "1001/0_1001", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next, prev := NextBackup(refs(t, c.existing...), "tar", "h_b", c.policy, c.now)
			if spec(next) != c.want {
				t.Errorf("next = %s, want %s", spec(next), c.want)
			}
			got := ""
			if prev != nil {
				got = spec(*prev)
			}
			if got != c.prev {
				t.Errorf("prev = %q, want %q", got, c.prev)
			}
			if next.Engine != "tar" || next.Name != "h_b" {
				t.Errorf("next names %+v", next)
			}
		})
	}
}

// TestNextBackupSequence replays runs the way upstream's agent behaves
// (checked against it): max-level 2 gives 0,1,2,0 and always-level 2 gives 0,1,2,2.
func TestNextBackupSequence(t *testing.T) {
	for _, c := range []struct {
		p    LevelPolicy
		want string
	}{
		{LevelPolicy{Incremental: true, MaxLevel: 2}, "0 1 2 0 1"},
		{LevelPolicy{Incremental: true, AlwaysLevel: 2}, "0 1 2 2 2"},
		{LevelPolicy{}, "0 0 0 0 0"},
	} {
		var all []Ref
		var levels []string
		for i := 0; i < 5; i++ {
			next, _ := NextBackup(all, "tar", "h_b", c.p, time.Unix(int64(100*(i+1)), 0))
			all = append(all, next)
			levels = append(levels, fmt.Sprint(next.Level))
		}
		if got := strings.Join(levels, " "); got != c.want {
			t.Errorf("%+v: levels %s, want %s", c.p, got, c.want)
		}
	}
}

func TestRestorePlan(t *testing.T) {
	// Chain A: 0,1,2(@300),2(@400) (always-level 2); chain B from 1000.
	all := refs(t, "1000/1_1100", "100/2_400", "100/0_100", "1000/0_1000", "100/1_200", "100/2_300")
	cases := []struct {
		at   int64 // 0 = latest
		want string
		err  bool
	}{
		{0, "1000/0_1000 1000/1_1100", false},
		{1100, "1000/0_1000 1000/1_1100", false},
		{1099, "1000/0_1000", false},
		{999, "100/0_100 100/1_200 100/2_400", false},
		// The upstream bug (verified against the Python agent): at t1 (300) upstream drops
		// level 2 because the newest level 2 is after t1, restoring 0,1.
		{300, "100/0_100 100/1_200 100/2_300", false},
		{350, "100/0_100 100/1_200 100/2_300", false},
		{250, "100/0_100 100/1_200", false},
		{100, "100/0_100", false},
		{99, "", true},
	}
	for _, c := range cases {
		at := time.Time{}
		if c.at != 0 {
			at = time.Unix(c.at, 0)
		}
		got, err := RestorePlan(all, at)
		if c.err {
			if !errors.Is(err, ErrNoBackup) {
				t.Errorf("at %d: err %v, want ErrNoBackup", c.at, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("at %d: %v", c.at, err)
			continue
		}
		if specs(got) != c.want {
			t.Errorf("at %d: plan %s, want %s", c.at, specs(got), c.want)
		}
	}
}

func TestRestorePlanBrokenChainIsAnError(t *testing.T) {
	// Upstream raises KeyError; we name the missing level.
	_, err := RestorePlan(refs(t, "100/0_100", "100/2_300"), time.Time{})
	if err == nil || !strings.Contains(err.Error(), "level 1") {
		t.Fatalf("err = %v, want a missing level 1 error", err)
	}
	// A chain without its level 0 is skipped for an older complete one.
	got, err := RestorePlan(refs(t, "50/0_50", "100/1_200"), time.Time{})
	if err != nil || specs(got) != "50/0_50" {
		t.Fatalf("plan %s, %v", specs(got), err)
	}
	if _, err := RestorePlan(nil, time.Time{}); !errors.Is(err, ErrNoBackup) {
		t.Fatalf("empty listing: %v", err)
	}
}

func TestRetention(t *testing.T) {
	cases := []struct {
		name     string
		existing []string
		cutoff   int64
		remove   string
		whole    []int64
	}{
		// Upstream (verified against the Python agent) deletes the whole chain here,
		// including the increments newer than the cutoff.
		{"cutoff inside a chain keeps it", []string{"100/0_100", "100/1_200", "100/2_300"}, 250, "", nil},
		{"whole old chain goes", []string{"100/0_100", "100/1_200", "1000/0_1000"}, 500, "100/0_100 100/1_200", []int64{100}},
		{"cutoff equal is removed", []string{"100/0_100", "1000/0_1000"}, 100, "100/0_100", []int64{100}},
		// Always-level differentials: 2@300 is needed by nothing kept.
		{"superseded differential goes", []string{"100/0_100", "100/1_200", "100/2_300", "100/2_400"}, 350, "100/2_300", nil},
		{"everything", []string{"100/0_100", "100/1_200"}, 5000, "100/0_100 100/1_200", []int64{100}},
		{"nothing", []string{"100/0_100", "100/1_200"}, 50, "", nil},
		// A kept increment above a gap keeps everything older below it.
		{"gap keeps older lower levels", []string{"100/0_100", "100/2_300"}, 250, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := refs(t, c.existing...)
			plan := Retention(all, time.Unix(c.cutoff, 0))
			if specs(plan.Remove) != c.remove {
				t.Errorf("remove %q, want %q", specs(plan.Remove), c.remove)
			}
			if fmt.Sprint(plan.WholeChains) != fmt.Sprint(c.whole) && !(len(plan.WholeChains) == 0 && len(c.whole) == 0) {
				t.Errorf("whole chains %v, want %v", plan.WholeChains, c.whole)
			}
			if len(plan.Remove)+len(plan.Keep) != len(all) {
				t.Errorf("remove %d + keep %d != %d", len(plan.Remove), len(plan.Keep), len(all))
			}
			// Invariant: every kept backup still restores.
			for _, k := range plan.Keep {
				if k.TS <= c.cutoff {
					continue
				}
				if _, err := RestorePlan(plan.Keep, time.Unix(k.TS, 0)); err != nil && c.name != "gap keeps older lower levels" {
					t.Errorf("kept %s no longer restores: %v", spec(k), err)
				}
			}
		})
	}
}

func TestSortRefsNumeric(t *testing.T) {
	rs := refs(t, "100/10_1000", "100/9_900", "100/0_100", "20/0_20")
	SortRefs(rs)
	if got := specs(rs); got != "20/0_20 100/0_100 100/9_900 100/10_1000" {
		t.Fatalf("sorted %s", got)
	}
}
