package store

import (
	"context"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// A round of gets of any size answers every id it was given, in queries
// of a few fixed shapes: the statement cache (first come, bounded) must
// not fill up with one statement per batch size.
func TestJobGetRoundsAnswerEveryIDInFewStatements(t *testing.T) {
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
		in := append(append([]string(nil), ids[:n]...), ids[0], "missing") // a repeat and a miss
		out, err := s.readJobGets(ctx, "p1", in)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids[:n] {
			if v := out[id]; len(v) != 1 || v[0].row.ID != id {
				t.Fatalf("round of %d ids: %s answered %d views", n, id, len(v))
			}
		}
		if v, ok := out["missing"]; ok && len(v) != 0 {
			t.Fatalf("round of %d ids: a missing id answered %d views", n, len(v))
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
