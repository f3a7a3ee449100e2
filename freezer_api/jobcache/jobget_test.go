package jobcache

import (
	"context"
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

// A round of gets of any size, with repeated and missing ids, answers
// every id that exists with exactly its own job, and leaves a missing one
// to be read alone.
func TestJobGetRoundsAnswerEveryID(t *testing.T) {
	ctx := context.Background()
	sc := store.Scope{ProjectID: "p1", UserID: "u1"}
	c := New(openStore(t, testDatabaseURL(t), store.Options{}), Options{})
	if _, err := c.RegisterClient(ctx, sc, apiv2.ClientInfo{ClientID: "c1", Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 130; i++ {
		id, err := c.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", Description: "d"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for n := 1; n <= len(ids); n++ {
		in := append(append([]string(nil), ids[:n]...), ids[0], "missing") // a repeat and a miss
		out, err := c.readGets(ctx, "p1", in)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids[:n] {
			if v := out[id]; len(v) != 1 || v[0].JobID != id {
				t.Fatalf("round of %d ids: %s answered %d views", n, id, len(v))
			}
		}
		if v, ok := out["missing"]; ok && len(v) != 0 {
			t.Fatalf("round of %d ids: a missing id answered %d views", n, len(v))
		}
	}
}
