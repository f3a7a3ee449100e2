package apiv2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

// openWithClient opens a new SQLite store with client clientID registered
// in sc's project.
func openWithClient(t testing.TB, sc store.Scope, clientID string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "f.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterClient(ctx, sc, apiv2.ClientInfo{ClientID: clientID, Hostname: "h"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// views renders the stored jobs of project p1 with r.
func views(t testing.TB, s *store.Store, r *apiv2.JobRenderer) []apiv2.JobView {
	t.Helper()
	jobs, err := s.ReadJobs(context.Background(), "p1", store.Filter{}, store.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]apiv2.JobView, len(jobs))
	for i := range jobs {
		if out[i], err = r.View(&jobs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A job view's bytes are exactly the encoding of the job document the
// store builds from the same rows (store.ListJobs), for contents that exercise the encoder: HTML
// characters (not escaped by the API), U+2028, quotes, control characters,
// numbers as written, nested values, nulls, absent optional fields,
// credentials, a process id, several actions in order and none at all.
func TestJobViewEncodesAsTheDocument(t *testing.T) {
	ctx := context.Background()
	sc := store.Scope{ProjectID: "p1", UserID: "u<1>"}
	s := openWithClient(t, sc, "c&1")
	three, ten := 3, 10
	no := false
	weird := "a<b>&c \u2028 \"q\" \\ \x01 é 🙂"
	var fa apiv2.FreezerAction
	dec := json.NewDecoder(strings.NewReader(`{"action":"backup","mode":"fs","max_level":7,"big":12345678901234567890,` +
		`"ratio":1.50,"exp":1e3,"nested":{"b":[1,"x",null,true],"a":{}},"remove_older_than":null}`))
	dec.UseNumber() // as the API decodes bodies
	if err := dec.Decode(&fa); err != nil {
		t.Fatal(err)
	}
	fa["backup_name"] = weird
	jobs := []apiv2.Job{
		{ClientID: "c&1", Description: weird, SessionID: "s1", SessionTag: 4,
			JobSchedule: apiv2.JobSchedule{TimeCreated: 1, CurrentPID: 4242, Status: "running", Event: "start", ScheduleInterval: "1 <days>"},
			JobActions: []apiv2.Action{
				{FreezerAction: fa, MaxRetries: &three, MaxRetriesInterval: &ten, Mandatory: &no},
				{FreezerAction: apiv2.FreezerAction{"action": "restore", "path_to_backup": "/x"}},
			},
			UserCredentials: &apiv2.UserCredentials{TrustID: "t<1>", TrustorUserID: "u&1"}},
		{ClientID: "c&1"},
	}
	for _, j := range jobs {
		if _, err := s.CreateJob(ctx, sc, j); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := s.ListJobs(ctx, "p1", store.Filter{}, store.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var r apiv2.JobRenderer
	// Twice: the second rendering comes from the render cache.
	for round := 0; round < 2; round++ {
		views := views(t, s, &r)
		if len(views) != len(docs) {
			t.Fatalf("views %d; want %d", len(views), len(docs))
		}
		for i, d := range docs {
			full, err := apiv2.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := views[i].AppendJSON(nil, false, true)
			if err != nil || !bytes.Equal(got, full) {
				t.Fatalf("round %d job %d: view\n%s\nwant\n%s (%v)", round, i, got, full, err)
			}
			// As a member sees it: no trust, and with hidePID no current_pid.
			d.UserCredentials = nil
			d.JobSchedule.CurrentPID = 0
			member, _ := apiv2.Marshal(d)
			if got, _ := views[i].AppendJSON(nil, true, false); !bytes.Equal(got, member) {
				t.Fatalf("round %d job %d as member: view\n%s\nwant\n%s", round, i, got, member)
			}
			if plain, _ := views[i].AppendJSON(nil, false, false); i > 0 && len(plain) > views[i].SizeHint() {
				t.Fatalf("job %d: SizeHint %d for %d bytes", i, views[i].SizeHint(), len(plain))
			}
			back, err := views[i].Job()
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := apiv2.Marshal(back); !bytes.Equal(again, full) {
				t.Fatalf("job %d: Job() does not give the document back:\n%s\n%s", i, again, full)
			}
		}
	}
	if !strings.Contains(string(mustAppend(t, s, &r, 0)), `"current_pid":4242`) {
		t.Fatal("a view without hidePID lost the process id")
	}
}

func mustAppend(t *testing.T, s *store.Store, r *apiv2.JobRenderer, i int) []byte {
	t.Helper()
	b, err := views(t, s, r)[i].AppendJSON(nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The render cache is keyed by the stored text: a changed schedule or
// freezer_action shows at once. (Its bound: TestRenderCacheStaysWithinItsBound.)
func TestRenderCacheFollowsTheStoredText(t *testing.T) {
	ctx := context.Background()
	sc := store.Scope{ProjectID: "p1", UserID: "u1"}
	s := openWithClient(t, sc, "c1")
	id, err := s.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", JobSchedule: apiv2.JobSchedule{Status: "scheduled"},
		JobActions: []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": "backup", "backup_name": "one"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var r apiv2.JobRenderer
	get := func() apiv2.Job {
		t.Helper()
		jobs, err := s.ReadJobsByID(ctx, "p1", []string{id})
		if err != nil || len(jobs) != 1 {
			t.Fatalf("reading %s: %d jobs, %v", id, len(jobs), err)
		}
		v, err := r.View(&jobs[0])
		if err != nil {
			t.Fatal(err)
		}
		j, err := v.Job()
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	before := get()
	if before.JobSchedule.Status != "scheduled" || before.JobActions[0].FreezerAction.String("backup_name") != "one" {
		t.Fatalf("before: %+v", before)
	}
	running := apiv2.JobSchedule{Status: "running", CurrentPID: 7}
	if _, err := s.PatchJob(ctx, sc, id, apiv2.JobPatch{JobSchedule: &running,
		JobActions: []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": "backup", "backup_name": "two"}}}}); err != nil {
		t.Fatal(err)
	}
	after := get()
	if after.JobSchedule.Status != "running" || after.JobSchedule.CurrentPID != 7 ||
		after.JobActions[0].FreezerAction.String("backup_name") != "two" {
		t.Fatalf("after: %+v", after)
	}
}

// FuzzJobView: for any description and freezer_action a job can be stored
// with, its view encodes exactly as its document.
func FuzzJobView(f *testing.F) {
	f.Add("nightly", []byte(`{"mode":"fs","n":1.50,"x":{"b":[1,null]}}`))
	f.Add("a<b>&\u2028\x01\"\\", []byte(`{"k":"\ud800","big":123456789012345678901234567890,"e":-0.0e-7}`))
	ctx := context.Background()
	sc := store.Scope{ProjectID: "p1", UserID: "u1"}
	s := openWithClient(f, sc, "c1")
	var r apiv2.JobRenderer
	f.Fuzz(func(t *testing.T, desc string, faJSON []byte) {
		var fa apiv2.FreezerAction
		dec := json.NewDecoder(bytes.NewReader(faJSON))
		dec.UseNumber()
		if dec.Decode(&fa) != nil || fa == nil {
			return
		}
		fa["action"] = "backup"
		delete(fa, "storage")
		delete(fa, "engine_name")
		delete(fa, "mode")
		id, err := s.CreateJob(ctx, sc, apiv2.Job{ClientID: "c1", Description: desc,
			JobActions: []apiv2.Action{{FreezerAction: fa}}})
		if err != nil {
			t.Log(err)
			return // not storable (e.g. invalid UTF-8 refused by the driver): nothing to read
		}
		doc, err := s.GetJob(ctx, sc, id)
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		want, err := apiv2.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := s.ReadJobsByID(ctx, "p1", []string{id})
		if err != nil || len(jobs) != 1 {
			t.Fatalf("reading %s: %d jobs, %v", id, len(jobs), err)
		}
		v, err := r.View(&jobs[0])
		if err != nil {
			t.Fatal(err)
		}
		if got, err := v.AppendJSON(nil, false, true); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("view\n%s\nwant\n%s (%v)", got, want, err)
		}
	})
}
