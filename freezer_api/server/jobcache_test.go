package server_test

import (
	"context"
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

// Two API instances on one database (SQLite in `make test`, MariaDB in
// `make integration`), each with its job cache: a write through one shows
// at once in the other's job list and get.
func TestJobCacheAcrossInstances(t *testing.T) {
	ctx := context.Background()
	url := testDatabaseURL(t)
	open := func() *store.Store {
		st, err := store.Open(ctx, url, store.Options{MaxOpenConns: 4, JobCacheBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return st
	}
	a, b := open(), open()
	sc := store.Scope{ProjectID: "p1", UserID: "u1"}
	if _, err := a.RegisterClient(ctx, sc, apiv2.ClientInfo{ClientID: "c1", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	id, err := a.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", Description: "first"})
	if err != nil {
		t.Fatal(err)
	}
	read := func(st *store.Store) (list, get string) {
		t.Helper()
		views, err := st.ListJobViews(ctx, "p1", store.Filter{}, store.Page{Limit: 10})
		if err != nil || len(views) != 1 {
			t.Fatalf("list: %d jobs, %v", len(views), err)
		}
		l, err := views[0].Job()
		if err != nil {
			t.Fatal(err)
		}
		v, err := st.GetJobView(ctx, sc, id)
		if err != nil {
			t.Fatal(err)
		}
		g, err := v.Job()
		if err != nil {
			t.Fatal(err)
		}
		return l.Description, g.Description
	}
	for _, want := range []string{"first", "second", "third"} {
		if want != "first" {
			// Alternate the writer: each instance's cache is behind once.
			w := a
			if want == "third" {
				w = b
			}
			d := want
			if _, err := w.PatchJob(ctx, sc, id, apiv2.JobPatch{Description: &d}); err != nil {
				t.Fatal(err)
			}
		}
		for round := 0; round < 2; round++ { // the second read of each is a cache hit
			for name, st := range map[string]*store.Store{"a": a, "b": b} {
				if l, g := read(st); l != want || g != want {
					t.Fatalf("instance %s, round %d: list %q, get %q, want %q", name, round, l, g, want)
				}
			}
		}
	}
}
