package jobcache

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

// openStore opens and migrates the database at url.
func openStore(t testing.TB, url string, o store.Options) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// behindItsBack runs a statement on the database at url the way an
// operator's SQL would: on a connection of its own, outside the store, so
// that no job generation is bumped.
func behindItsBack(t *testing.T, url, query string) {
	t.Helper()
	d, dsn, err := store.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(string(d), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}

// openCached opens the database at url with the job cache on; the clock
// is *now.
func openCached(t *testing.T, url string, now *time.Time, check bool) *Store {
	t.Helper()
	return New(openStore(t, url, store.Options{MaxOpenConns: 4}), Options{Bytes: 1 << 20, Check: check, Now: func() time.Time { return *now }})
}

// withJob registers client c1 in sc's project and creates one job of it.
func withJob(t *testing.T, s *Store, sc store.Scope, description string) string {
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

// cachedWithJob is a new cached store (a fixed clock) on a new database
// with one job in project p1, and the database's URL.
func cachedWithJob(t *testing.T, check bool, description string) (*Store, store.Scope, string, string) {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	url := testDatabaseURL(t)
	s := openCached(t, url, &now, check)
	sc := store.Scope{ProjectID: "p1", UserID: "u1"}
	return s, sc, withJob(t, s, sc, description), url
}

func descriptions(t *testing.T, s *Store, project string) []string {
	t.Helper()
	views, err := s.ListJobViews(context.Background(), project, store.Filter{}, store.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := range views {
		j, err := views[i].Job()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, j.Description)
	}
	return out
}

// The coherence rule, on SQLite (`make test`) and MariaDB (`make
// integration`): every write through a store, this instance's or another
// one's on the same database, shows in the next read; a write outside
// them shows only once the entry expires.
func TestJobCacheFollowsEveryWrite(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	url := testDatabaseURL(t)
	a := openCached(t, url, &now, false)
	sc := store.Scope{ProjectID: "p1", UserID: "u1"}
	id := withJob(t, a, sc, "one")
	if d := descriptions(t, a, "p1"); len(d) != 1 || d[0] != "one" {
		t.Fatalf("first read: %q", d)
	}

	// A write the cache cannot know of (no generation bump) shows that
	// the next read is a hit: it still answers the old description.
	behindItsBack(t, url, "UPDATE jobs SET description = 'behind its back'")
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
		v, err := reader.GetJobView(ctx, sc, id)
		if err != nil {
			t.Fatal(err)
		}
		if j, _ := v.Job(); j.Description != desc {
			t.Fatalf("get after PatchJob(%q): %q", desc, j.Description)
		}
	}
	patchAndRead(a, a, "two")
	// Another instance on the same database writes: this one sees it.
	b := openCached(t, url, &now, false)
	patchAndRead(b, a, "three")
	if _, err := b.DeleteJob(ctx, sc, id); err != nil {
		t.Fatal(err)
	}
	if d := descriptions(t, a, "p1"); len(d) != 0 {
		t.Fatalf("after delete: %q", d)
	}
	if _, err := a.GetJobView(ctx, sc, id); store.KindOf(err) != store.KindNotFound {
		t.Fatalf("get after delete: %v", err)
	}

	// Another project's writes leave this project's entries alone, and
	// entries expire: an out-of-band write shows after maxAge.
	if _, err := a.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", Description: "four"}); err != nil {
		t.Fatal(err)
	}
	descriptions(t, a, "p1")
	behindItsBack(t, url, "UPDATE jobs SET description = 'five'")
	other := store.Scope{ProjectID: "p2", UserID: "u2"}
	if _, err := a.RegisterClient(ctx, other, apiv2.ClientInfo{ClientID: "c2", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateJob(ctx, other, apiv2.Job{ClientID: "c2", Description: "p2's"}); err != nil {
		t.Fatal(err)
	}
	if d := descriptions(t, a, "p1"); d[0] != "four" {
		t.Fatalf("p2's write dropped p1's entry: %q", d)
	}
	now = now.Add(maxAge)
	if d := descriptions(t, a, "p1"); d[0] != "five" {
		t.Fatalf("entry outlived maxAge: %q", d)
	}
}

// Options.Check is what makes the API tests a test of every write path:
// it must catch a write that did not bump the generation.
func TestCheckJobCacheCatchesAStaleHit(t *testing.T) {
	ctx := context.Background()
	s, sc, id, url := cachedWithJob(t, true, "one")
	descriptions(t, s, "p1")
	if _, err := s.GetJobView(ctx, sc, id); err != nil {
		t.Fatal(err)
	}
	behindItsBack(t, url, "UPDATE jobs SET description = 'behind its back'")
	if _, err := s.ListJobViews(ctx, "p1", store.Filter{}, store.Page{Limit: 10}); !errors.Is(err, errStale) {
		t.Fatalf("list: %v, want errStale", err)
	}
	if _, err := s.GetJobView(ctx, sc, id); !errors.Is(err, errStale) {
		t.Fatalf("get: %v, want errStale", err)
	}
}

func TestJobCacheStaysWithinItsBound(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	s := openCached(t, testDatabaseURL(t), &now, false)
	s.max = 16 << 10
	sc := store.Scope{ProjectID: "p1", UserID: "u1"}
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
			if s.bytes > s.max {
				t.Fatalf("cache holds %d bytes, bound %d", s.bytes, s.max)
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
		if s.bytes > s.max {
			t.Fatalf("cache holds %d bytes, bound %d", s.bytes, s.max)
		}
	}
	sum := 0
	for _, e := range s.m {
		sum += e.size
	}
	if sum != s.bytes || len(s.m) == 0 || len(s.m) >= len(ids) {
		t.Fatalf("accounting: %d entries, sum %d, bytes %d", len(s.m), sum, s.bytes)
	}
}

func TestJobCacheKeyIsUnambiguous(t *testing.T) {
	keys := map[string]string{}
	add := func(what, k string) {
		t.Helper()
		if prev, dup := keys[k]; dup {
			t.Fatalf("%s and %s share the key %q", prev, what, k)
		}
		keys[k] = what
	}
	for _, id := range []string{"a\x00sb", "a", "b", "", "1:a", "l"} {
		for _, p := range []string{"p", "p\x001:a", ""} {
			add(fmt.Sprintf("get %q of %q", id, p), getKey(p, id))
		}
	}
	c := func(k, v string) store.Cond { return store.Cond{Key: k, Value: v} }
	for i, f := range []store.Filter{
		{},
		{Match: []store.Cond{c("a", "s:b")}},
		{MatchNot: []store.Cond{c("a", "s:b")}},
		{Match: []store.Cond{c("a", "s:b"), c("c", "s:d")}},
		{Match: []store.Cond{c("a\x00", "s:b")}},
		{Match: []store.Cond{c("a", "s:b\x00c:s:d")}},
		{Text: []string{"a"}},
		{NotText: []string{"a"}},
		{Text: []string{"a", "b"}},
		{Text: []string{"a\x00b"}},
	} {
		for _, pg := range []store.Page{{Limit: 10}, {Limit: 10, Offset: 1}, {Limit: 1, Offset: 0}, {Limit: 101}} {
			for _, p := range []string{"p", "q", ""} {
				add(fmt.Sprintf("list %d %v of %q", i, pg, p), listKey(p, f, pg))
			}
		}
	}
}

// Shared generation reads must never answer a request with a generation
// older than one committed before the request began, and under
// concurrency they must actually be shared.
func TestSharedJobGenerationIsNeverOlderThanTheRequest(t *testing.T) {
	ctx := context.Background()
	s, sc, id, _ := cachedWithJob(t, false, "d")
	var committed atomic.Int64 // the latest generation known committed
	if g, err := s.JobGeneration(ctx, "p1"); err != nil || g == 0 {
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
			g, err := s.JobGeneration(ctx, "p1")
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
				g, err := s.sharedGeneration(ctx, "p1")
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
