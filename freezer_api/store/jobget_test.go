package store

import (
	"context"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// A read of any number of ids answers every job it was given, in queries
// of a few fixed shapes: the statement cache (first come, bounded) must
// not fill up with one statement per batch size.
func TestReadJobsByIDAnswersEveryIDInFewStatements(t *testing.T) {
	ctx := context.Background()
	sc := Scope{ProjectID: "p1", UserID: "u1"}
	s := openWithClient(t, sc, "c1")
	var ids []string
	for i := 0; i < 130; i++ {
		id, err := s.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", Description: "d"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for n := 1; n <= len(ids); n++ {
		in := append(append([]string(nil), ids[:n]...), "missing") // and a miss
		jobs, err := s.ReadJobsByID(ctx, "p1", in)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != n {
			t.Fatalf("%d ids and a missing one: %d jobs", n, len(jobs))
		}
		for i, id := range ids[:n] { // created in seq order
			if jobs[i].JobID != id {
				t.Fatalf("%d ids: job %d is %s, want %s", n, i, jobs[i].JobID, id)
			}
		}
	}
	s.stmts.mu.Lock()
	shapes := 0
	for q := range s.stmts.stmts {
		if strings.Contains(q, "d.id IN (") {
			shapes++
		}
	}
	s.stmts.mu.Unlock()
	if shapes > len(jobGetSizes) {
		t.Fatalf("%d statements of batched gets prepared, want at most %d", shapes, len(jobGetSizes))
	}
}
