package loadpoll_test

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/freezer_api/store"
	"freezer.dev/freezer/tools/loadpoll"
)

// A small load against our real freezer-api in-process: every poll must
// succeed and return the node's jobs.
func TestSmallLoadAgainstOurAPI(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "f.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pol, _ := auth.NewPolicy(nil)
	lg := logrus.New()
	lg.SetOutput(io.Discard)
	srv := httptest.NewServer(server.New(server.Config{Store: jobcache.New(st, jobcache.Options{}), Policy: pol, Logger: logrus.NewEntry(lg),
		Auth: auth.NoAuth{ProjectID: "p1", UserID: "u1", Roles: []string{"member"}}}))
	defer srv.Close()
	c, err := client.NewNoAuth(srv.URL, "p1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadpoll.Run(ctx, c, loadpoll.Config{Schedulers: 20, Interval: 200 * time.Millisecond,
		Duration: 1500 * time.Millisecond, JobsPerScheduler: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	// How many polls fit in the window depends on the machine's load, so
	// only correctness is asserted here; rates are `make bench`'s job.
	if rep.Failures != 0 || rep.Polls == 0 || rep.JobsCreated != 40 {
		t.Errorf("report %s, errors %v", rep, rep.FirstErrors)
	}
	if rep.P50 > rep.P99 || rep.P99 > rep.Max {
		t.Errorf("quantiles out of order: %s", rep)
	}
	if _, err := loadpoll.Run(ctx, c, loadpoll.Config{}); err == nil {
		t.Error("empty config accepted")
	}
}
