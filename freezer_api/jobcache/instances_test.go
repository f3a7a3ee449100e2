package jobcache

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
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
	open := func() *Store {
		return New(openStore(t, url, store.Options{MaxOpenConns: 4}), Options{Bytes: 1 << 20})
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
	read := func(st *Store) (list, get string) {
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
			for name, st := range map[string]*Store{"a": a, "b": b} {
				if l, g := read(st); l != want || g != want {
					t.Fatalf("instance %s, round %d: list %q, get %q, want %q", name, round, l, g, want)
				}
			}
		}
	}
}

// Concurrent job gets of a project share their database reads (one query
// for many ids), with the cache off so that every get reads. Each get must
// still answer exactly its own job, as of a moment after it began: never
// another project's job, never a job that was written before the get
// began in its older state; an id the database matches only loosely
// (MariaDB: "id " equals "id") answers as a get alone does.
func TestJobGetsShareReads(t *testing.T) {
	ctx := context.Background()
	st := New(openStore(t, testDatabaseURL(t), store.Options{MaxOpenConns: 8}), Options{})
	p1, p2 := store.Scope{ProjectID: "p1", UserID: "u1"}, store.Scope{ProjectID: "p2", UserID: "u2"}
	var ids []string
	for _, sc := range []store.Scope{p1, p2} {
		if _, err := st.RegisterClient(ctx, sc, apiv2.ClientInfo{ClientID: "c_" + sc.ProjectID, Hostname: "h"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; i++ {
		id, err := st.CreateJob(ctx, p1, apiv2.Job{ClientID: "c_p1", Description: "0"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	other, err := st.CreateJob(ctx, p2, apiv2.Job{ClientID: "c_p2", Description: "other"})
	if err != nil {
		t.Fatal(err)
	}
	// What a get alone answers for an id with a trailing space (one get:
	// a round of one id is the plain query).
	_, loneErr := st.GetJobView(ctx, p1, ids[1]+" ")
	lonePadded := loneErr == nil

	var committed atomic.Int64 // job 0's description, the latest known committed
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			d := strconv.FormatInt(i, 10)
			if _, err := st.PatchJob(ctx, p1, ids[0], apiv2.JobPatch{Description: &d}); err != nil {
				writerDone <- err
				return
			}
			committed.Store(i)
		}
	}()
	const readers, gets = 32, 60
	before := st.JobCacheStats().GetReads
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			for i := 0; i < gets; i++ {
				id := ids[(r+i)%len(ids)]
				switch i % 10 {
				case 7:
					id = other // another project's job: not found in p1
				case 8:
					id = "nope"
				case 9:
					id = ids[1] + " "
				}
				low := committed.Load()
				v, err := st.GetJobView(ctx, p1, id)
				switch {
				case id == other || id == "nope":
					if store.KindOf(err) != store.KindNotFound {
						errs <- fmt.Errorf("get %s in p1: %v, want not found", id, err)
						return
					}
					continue
				case id == ids[1]+" ":
					if (err == nil) != lonePadded {
						errs <- fmt.Errorf("get %q with others: err %v; alone: err %v", id, err, loneErr)
						return
					}
					continue
				case err != nil:
					errs <- err
					return
				}
				j, err := v.Job()
				if err != nil {
					errs <- err
					return
				}
				if j.JobID != id || j.ProjectID != "p1" {
					errs <- fmt.Errorf("get %s answered job %s of %s", id, j.JobID, j.ProjectID)
					return
				}
				if id == ids[0] {
					if n, _ := strconv.ParseInt(j.Description, 10, 64); n < low {
						errs <- fmt.Errorf("get of job 0 read description %s after %d was committed", j.Description, low)
						return
					}
				}
			}
		}(r)
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
	reads := st.JobCacheStats().GetReads - before
	if reads >= readers*gets {
		t.Fatalf("%d reads for %d gets: none shared", reads, readers*gets)
	}
	t.Logf("%d shared reads for %d gets (a trailing-space id alone found: %v)", reads, readers*gets, lonePadded)
}
