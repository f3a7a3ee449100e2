package backup

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// This file holds the pure chain rules: which level a new backup gets, which
// backups a restore applies, which backups retention may delete. They work on
// listings (the Refs of one engine and one "<host>_<name>") and do no I/O, so
// every rule is table-tested, including the upstream bugs we do not repeat.
//
// One fact ties the three together. The layout records no parent pointer, so
// the backup a level N was taken against is recovered as the newest level
// N-1 backup of the same chain that is older than it. That is exactly what
// NextBackup chose when the backup was made: a chain climbs 0,1,2,... and
// only its top level repeats (always-level), so every level below the top is
// unique and the rule is unambiguous.

// SortRefs orders refs by chain (L0), then timestamp, then level: oldest
// first. Listings come from storages in byte order ("10_..." before "9_..."),
// which is not time order; every rule here sorts first.
func SortRefs(refs []Ref) {
	sort.Slice(refs, func(i, j int) bool {
		a, b := refs[i], refs[j]
		if a.L0 != b.L0 {
			return a.L0 < b.L0
		}
		if a.TS != b.TS {
			return a.TS < b.TS
		}
		return a.Level < b.Level
	})
}

// LevelPolicy holds the options that decide a new backup's level, with
// upstream's meaning (its --max-level, --always-level and
// --restart-always-level options).
type LevelPolicy struct {
	// Incremental off makes every backup a level 0 of a fresh chain.
	Incremental bool
	// MaxLevel > 0 starts a new chain once the newest chain reached it:
	// levels 0..MaxLevel, then 0 again.
	MaxLevel int
	// AlwaysLevel > 0 climbs 0..AlwaysLevel and then keeps taking level
	// AlwaysLevel backups against the level AlwaysLevel-1 state.
	AlwaysLevel int
	// RestartAfter > 0 starts a new chain when the current chain's level 0
	// is older than this. Upstream measures from the newest backup, so a
	// daily backup never restarts; we measure from level 0, which is what
	// "restart every N days" means.
	RestartAfter time.Duration
}

// chains groups refs by L0; each group is sorted oldest first.
func chains(refs []Ref) (map[int64][]Ref, []int64) {
	sorted := append([]Ref(nil), refs...)
	SortRefs(sorted)
	by := map[int64][]Ref{}
	var l0s []int64
	for _, r := range sorted {
		if _, ok := by[r.L0]; !ok {
			l0s = append(l0s, r.L0)
		}
		by[r.L0] = append(by[r.L0], r)
	}
	return by, l0s
}

// Parent returns the backup that b was taken against within chain (the
// refs of b's chain): the newest level b.Level-1 backup older than b. ok is
// false for a level 0, or when that backup is missing.
func Parent(chain []Ref, b Ref) (Ref, bool) {
	var best Ref
	found := false
	for _, r := range chain {
		if r.L0 != b.L0 || r.Level != b.Level-1 || r.TS > b.TS {
			continue
		}
		if !found || r.TS > best.TS {
			best, found = r, true
		}
	}
	return best, found && b.Level > 0
}

// ancestry returns b and its ancestors, level 0 first, or an error naming
// the missing level.
func ancestry(chain []Ref, b Ref) ([]Ref, error) {
	path := []Ref{b}
	for cur := b; cur.Level > 0; {
		p, ok := Parent(chain, cur)
		if !ok {
			return nil, fmt.Errorf("backup %s cannot be restored: its level %d backup is missing from the chain", b, cur.Level-1)
		}
		path = append(path, p)
		cur = p
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path, nil
}

// NextBackup decides where a new backup of engine/name goes, given the
// committed backups of that engine and name and the policy. It returns the
// new backup's Ref and, for a level > 0, the backup whose engine state it is
// taken against.
//
// Differences from upstream's level computation, each a fix:
//   - the newest chain is the numerically largest L0, and per level the
//     newest backup by timestamp is used, never "the last one listed";
//   - a chain whose levels are not contiguous from 0 (a level-0 or middle
//     backup was deleted or never committed) is not extended: a new chain
//     starts, so no backup is ever taken against a state that cannot be
//     restored;
//   - RestartAfter is measured from the chain's level 0;
//   - the timestamp is now, but at least one second after every existing
//     backup of the name, so two runs in the same second never overwrite
//     each other.
func NextBackup(existing []Ref, engine, name string, p LevelPolicy, now time.Time) (Ref, *Ref) {
	ts := now.Unix()
	for _, r := range existing {
		if r.TS >= ts {
			ts = r.TS + 1
		}
		if r.L0 >= ts {
			ts = r.L0 + 1
		}
	}
	fresh := Ref{Engine: engine, Name: name, L0: ts, Level: 0, TS: ts}
	if !p.Incremental || len(existing) == 0 {
		return fresh, nil
	}
	by, l0s := chains(existing)
	chain := by[l0s[len(l0s)-1]]

	// newest per level, and the top level
	newest := map[int]Ref{}
	hi := -1
	for _, r := range chain {
		if cur, ok := newest[r.Level]; !ok || r.TS >= cur.TS {
			newest[r.Level] = r
		}
		if r.Level > hi {
			hi = r.Level
		}
	}
	for l := 0; l <= hi; l++ {
		if _, ok := newest[l]; !ok {
			return fresh, nil // broken chain: never extend it
		}
	}
	if p.MaxLevel > 0 && hi >= p.MaxLevel {
		return fresh, nil
	}
	if p.AlwaysLevel > 0 && hi > p.AlwaysLevel {
		return fresh, nil
	}
	if p.RestartAfter > 0 && now.Sub(time.Unix(newest[0].TS, 0)) > p.RestartAfter {
		return fresh, nil
	}
	prev := newest[hi]
	if p.AlwaysLevel > 0 && hi == p.AlwaysLevel {
		prev = newest[hi-1]
	}
	// The new backup must descend from prev by the Parent rule; it does, as
	// prev is the newest at its level and the new one is newer than all.
	return Ref{Engine: engine, Name: name, L0: prev.L0, Level: prev.Level + 1, TS: ts}, &prev
}

// ErrNoBackup is wrapped by RestorePlan when nothing matches.
var ErrNoBackup = errors.New("no backup found")

// RestorePlan picks the backups a restore applies, level 0 first. Without
// a date (at.IsZero()) it restores the newest backup; with one, the state as
// of that time: the newest backup with a timestamp ≤ at, in the newest chain
// that started at or before at, plus its ancestors.
//
// Upstream drops every same-level backup when the newest of that
// level is after the date, silently restoring an older state, and fails with
// a KeyError on a missing level; here the newest backup ≤ at is taken at
// every level and a missing ancestor is a clear error.
func RestorePlan(existing []Ref, at time.Time) ([]Ref, error) {
	var cand []Ref
	for _, r := range existing {
		if at.IsZero() || r.TS <= at.Unix() {
			cand = append(cand, r)
		}
	}
	by, l0s := chains(cand)
	for i := len(l0s) - 1; i >= 0; i-- {
		chain := by[l0s[i]]
		if chain[0].Level != 0 || chain[0].TS != chain[0].L0 {
			// a chain whose level 0 is gone (or not yet at this date)
			// cannot be the answer; an older complete one can.
			continue
		}
		target := chain[len(chain)-1]
		return ancestry(chain, target)
	}
	if at.IsZero() {
		return nil, fmt.Errorf("%w", ErrNoBackup)
	}
	return nil, fmt.Errorf("%w at or before %s", ErrNoBackup, at.UTC().Format(time.RFC3339))
}

// RetentionPlan is what admin removes.
type RetentionPlan struct {
	// Remove lists the backups to delete, oldest first.
	Remove []Ref
	// Keep lists the backups that stay, oldest first; it includes old
	// backups kept only because a newer one needs them.
	Keep []Ref
	// WholeChains lists the L0 of chains all of whose backups are removed,
	// so their directories (and any orphan data in them) can go too.
	WholeChains []int64
}

// Retention plans the removal of backups with a timestamp ≤ cutoff. A backup
// newer than the cutoff is never removed, nor any backup it needs to be
// restored (its ancestors, back to level 0). Upstream deletes
// every chain whose level 0 is older than the cutoff with all its
// increments, which with unbounded incrementals eventually deletes
// everything; here a chain goes only when nothing in it is newer than the
// cutoff, and within a kept chain only backups that no kept backup needs
// (superseded always-level differentials) go.
func Retention(existing []Ref, cutoff time.Time) RetentionPlan {
	by, l0s := chains(existing)
	var plan RetentionPlan
	for _, l0 := range l0s {
		chain := by[l0]
		keep := map[Ref]bool{}
		for _, r := range chain {
			if r.TS <= cutoff.Unix() {
				continue
			}
			keep[r] = true
			for cur := r; cur.Level > 0; {
				p, ok := Parent(chain, cur)
				if !ok {
					// A gap: this backup cannot be restored as is, but
					// whatever is older and below it may be what a repair
					// needs, so nothing it could descend from is removed.
					for _, o := range chain {
						if o.Level < cur.Level && o.TS <= cur.TS {
							keep[o] = true
						}
					}
					break
				}
				keep[p] = true
				cur = p
			}
		}
		removed := 0
		for _, r := range chain {
			if keep[r] {
				plan.Keep = append(plan.Keep, r)
			} else {
				plan.Remove = append(plan.Remove, r)
				removed++
			}
		}
		if removed == len(chain) {
			plan.WholeChains = append(plan.WholeChains, l0)
		}
	}
	return plan
}
