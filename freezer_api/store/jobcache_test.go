package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// openCached opens the SQLite database at path with the job cache on;
// the clock is *now.
func openCached(t *testing.T, path string, now *time.Time, check bool) *Store {
	t.Helper()
	return openTestAt(t, path, Options{JobCacheBytes: 1 << 20, CheckJobCache: check, Now: func() time.Time { return *now }})
}

// withJob registers client c1 in sc's project and creates one job of it.
func withJob(t *testing.T, s *Store, sc Scope, description string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := s.RegisterClient(ctx, sc, apiv2.ClientInfo{ClientID: "c1", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	id, err := s.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", Description: description})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// cachedWithJob is a new cached store (a fixed clock) with one job in
// project p1.
func cachedWithJob(t *testing.T, check bool, description string) (*Store, Scope, string) {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	s := openCached(t, filepath.Join(t.TempDir(), "f.db"), &now, check)
	sc := Scope{ProjectID: "p1", UserID: "u1"}
	return s, sc, withJob(t, s, sc, description)
}

func descriptions(t *testing.T, s *Store, project string) []string {
	t.Helper()
	views, err := s.ListJobViews(context.Background(), project, Filter{}, Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range views {
		out = append(out, views[i].row.Description)
	}
	return out
}

func TestJobCacheFollowsEveryWrite(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	path := filepath.Join(t.TempDir(), "f.db")
	a := openCached(t, path, &now, false)
	sc := Scope{ProjectID: "p1", UserID: "u1"}
	id := withJob(t, a, sc, "one")
	if d := descriptions(t, a, "p1"); len(d) != 1 || d[0] != "one" {
		t.Fatalf("first read: %q", d)
	}

	// A write the cache cannot know of (no generation bump) shows that
	// the next read is a hit: it still answers the old description.
	if _, err := a.db.ExecContext(ctx, "UPDATE jobs SET description = 'behind its back'"); err != nil {
		t.Fatal(err)
	}
	if d := descriptions(t, a, "p1"); d[0] != "one" {
		t.Fatalf("second read was not a cache hit: %q", d)
	}

	// A write through the store bumps the generation: the next list and
	// get through reader see it.
	patchAndRead := func(writer, reader *Store, desc string) {
		t.Helper()
		if _, err := writer.PatchJob(ctx, sc, id, apiv2.JobPatch{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		if d := descriptions(t, reader, "p1"); d[0] != desc {
			t.Fatalf("list after PatchJob(%q): %q", desc, d)
		}
		if v, err := reader.GetJobView(ctx, sc, id); err != nil || v.row.Description != desc {
			t.Fatalf("get after PatchJob(%q): %v %v", desc, v.row, err)
		}
	}
	patchAndRead(a, a, "two")
	// Another instance on the same database writes: this one sees it.
	b := openCached(t, path, &now, false)
	patchAndRead(b, a, "three")
	if _, err := b.DeleteJob(ctx, sc, id); err != nil {
		t.Fatal(err)
	}
	if d := descriptions(t, a, "p1"); len(d) != 0 {
		t.Fatalf("after delete: %q", d)
	}
	if _, err := a.GetJobView(ctx, sc, id); KindOf(err) != KindNotFound {
		t.Fatalf("get after delete: %v", err)
	}

	// Another project's writes leave this project's entries alone, and
	// entries expire: an out-of-band write shows after jobCacheMaxAge.
	if _, err := a.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", Description: "four"}); err != nil {
		t.Fatal(err)
	}
	descriptions(t, a, "p1")
	if _, err := a.db.ExecContext(ctx, "UPDATE jobs SET description = 'five'"); err != nil {
		t.Fatal(err)
	}
	other := Scope{ProjectID: "p2", UserID: "u2"}
	if _, err := a.RegisterClient(ctx, other, apiv2.ClientInfo{ClientID: "c2", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateJob(ctx, other, apiv2.Job{ClientID: "c2", Description: "p2's"}); err != nil {
		t.Fatal(err)
	}
	if d := descriptions(t, a, "p1"); d[0] != "four" {
		t.Fatalf("p2's write dropped p1's entry: %q", d)
	}
	now = now.Add(jobCacheMaxAge)
	if d := descriptions(t, a, "p1"); d[0] != "five" {
		t.Fatalf("entry outlived jobCacheMaxAge: %q", d)
	}
}

// CheckJobCache is what makes the API tests a test of every write path:
// it must catch a write that did not bump the generation.
func TestCheckJobCacheCatchesAStaleHit(t *testing.T) {
	ctx := context.Background()
	s, sc, id := cachedWithJob(t, true, "one")
	descriptions(t, s, "p1")
	if _, err := s.GetJobView(ctx, sc, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE jobs SET description = 'behind its back'"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListJobViews(ctx, "p1", Filter{}, Page{Limit: 10}); !errors.Is(err, errJobCacheStale) {
		t.Fatalf("list: %v, want errJobCacheStale", err)
	}
	if _, err := s.GetJobView(ctx, sc, id); !errors.Is(err, errJobCacheStale) {
		t.Fatalf("get: %v, want errJobCacheStale", err)
	}
}

func TestJobCacheStaysWithinItsBound(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	s := openCached(t, filepath.Join(t.TempDir(), "f.db"), &now, false)
	s.jobs.max = 16 << 10
	sc := Scope{ProjectID: "p1", UserID: "u1"}
	if _, err := s.RegisterClient(ctx, sc, apiv2.ClientInfo{ClientID: "c1", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 50; i++ {
		id, err := s.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", Description: "a job"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for round := 0; round < 3; round++ {
		for _, id := range ids {
			if _, err := s.GetJobView(ctx, sc, id); err != nil {
				t.Fatal(err)
			}
			if s.jobs.bytes > s.jobs.max {
				t.Fatalf("cache holds %d bytes, bound %d", s.jobs.bytes, s.jobs.max)
			}
		}
	}
	// Every job grows: each read replaces its cached entry with a larger
	// one while the cache is full, so eviction runs with the key present.
	for _, id := range ids {
		if _, err := s.GetJobView(ctx, sc, id); err != nil {
			t.Fatal(err)
		}
		d := strings.Repeat("a longer description ", 20)
		if _, err := s.PatchJob(ctx, sc, id, apiv2.JobPatch{Description: &d}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetJobView(ctx, sc, id); err != nil {
			t.Fatal(err)
		}
		if s.jobs.bytes > s.jobs.max {
			t.Fatalf("cache holds %d bytes, bound %d", s.jobs.bytes, s.jobs.max)
		}
	}
	sum := 0
	for _, e := range s.jobs.m {
		sum += e.size
	}
	if sum != s.jobs.bytes || len(s.jobs.m) == 0 || len(s.jobs.m) >= len(ids) {
		t.Fatalf("accounting: %d entries, sum %d, bytes %d", len(s.jobs.m), sum, s.jobs.bytes)
	}
}

func TestJobCacheKeyIsUnambiguous(t *testing.T) {
	keys := map[string][]any{}
	for _, args := range [][]any{
		{"a\x00sb"}, {"a", "b"}, {"a\x00s1:b"}, {"1"}, {1}, {int64(1)}, {true}, {"true"}, {"", ""}, {""}, {},
	} {
		k := jobCacheKey(" AND d.project_id = ?", args)
		if prev, dup := keys[k]; dup && !(len(prev) == 1 && len(args) == 1 && isInt(prev[0]) && isInt(args[0])) {
			t.Fatalf("%#v and %#v share the key %q", prev, args, k)
		}
		keys[k] = args
	}
}

// isInt: int and int64 of one value are the same query argument.
func isInt(v any) bool {
	switch v.(type) {
	case int, int64:
		return true
	}
	return false
}

// Shared generation reads must never answer a request with a generation
// older than one committed before the request began, and under
// concurrency they must actually be shared.
func TestSharedJobGenerationIsNeverOlderThanTheRequest(t *testing.T) {
	ctx := context.Background()
	s, sc, id := cachedWithJob(t, false, "d")
	var committed atomic.Int64 // the latest generation known committed
	if g, err := s.jobGeneration(ctx, "p1"); err != nil || g == 0 {
		t.Fatalf("generation after a write: %d, %v", g, err)
	} else {
		committed.Store(g)
	}
	const readers, reads = 32, 100
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			d := fmt.Sprint("d", i)
			if _, err := s.PatchJob(ctx, sc, id, apiv2.JobPatch{Description: &d}); err != nil {
				writerDone <- err
				return
			}
			g, err := s.jobGeneration(ctx, "p1")
			if err != nil {
				writerDone <- err
				return
			}
			committed.Store(g)
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < reads; i++ {
				before := committed.Load()
				g, err := s.sharedJobGeneration(ctx, "p1")
				if err != nil {
					errs <- err
					return
				}
				if g < before {
					errs <- fmt.Errorf("read generation %d after %d was committed", g, before)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	queries, left := s.gens.stats()
	if queries >= readers*reads {
		t.Fatalf("%d reads for %d requests: none shared", queries, readers*reads)
	}
	if left != 0 {
		t.Fatalf("%d idle projects left in the coalescer", left)
	}
	t.Logf("%d generation reads for %d requests", queries, readers*reads)
}
