package jobcache

import (
	"context"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

// A cached job read answers the schedule as stored, as the store's own
// read does: without event, status or result until something sets them,
// with them empty after a start event, and with what the scheduler's
// PATCH sent afterwards (a cached rendering of the old text must not
// answer for the new one). On SQLite and MariaDB.
func TestCachedScheduleAsStored(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	url := testDatabaseURL(t)
	c := openCached(t, url, &now, true)
	plain := openStore(t, url, store.Options{})
	sc := store.Scope{ProjectID: "p1", UserID: "u1"}
	id := withJob(t, c, sc, "d")
	check := func(stage, want string, absent ...string) {
		t.Helper()
		v, err := c.GetJobView(ctx, sc, id)
		if err != nil {
			t.Fatal(err)
		}
		cached, err := v.AppendJSON(nil, false, true)
		if err != nil {
			t.Fatal(err)
		}
		j, err := plain.GetJob(ctx, sc, id)
		if err != nil {
			t.Fatal(err)
		}
		direct, err := apiv2.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		if string(cached) != string(direct) {
			t.Fatalf("%s: cached %s\n  store %s", stage, cached, direct)
		}
		if !strings.Contains(string(cached), want) {
			t.Fatalf("%s: %s lacks %s", stage, cached, want)
		}
		for _, k := range absent {
			if strings.Contains(string(cached), `"`+k+`":`) {
				t.Fatalf("%s: %s has %s", stage, cached, k)
			}
		}
	}
	check("created", `"job_schedule":{"time_created":`, "event", "status", "result")
	if _, err := c.JobEvent(ctx, sc, id, apiv2.EventStart); err != nil {
		t.Fatal(err)
	}
	check("started", `"event":"start","status":"","result":""`)
	if _, err := c.PatchJob(ctx, sc, id, apiv2.JobPatch{JobSchedule: &apiv2.JobSchedule{Status: apiv2.StatusScheduled}}); err != nil {
		t.Fatal(err)
	}
	check("patched", `"job_schedule":{"status":"scheduled"}`, "event", "result")
}
