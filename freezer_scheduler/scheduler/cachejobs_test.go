package scheduler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// A job document that cannot be cached (here its file's place is taken by
// a directory, so the rename fails) is reported in the log, not dropped
// silently; the others are still written.
func TestCacheJobsReportsAFailedWrite(t *testing.T) {
	h := newHarness(t, "", nil)
	hook := logtest.NewLocal(h.s.log.Logger)
	jobs := h.s.cfg.JobsDir
	if err := os.MkdirAll(filepath.Join(jobs, "job_blocked.conf", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.s.cacheJobs([]apiv2.Job{{JobID: "blocked"}, {JobID: "fine"}})
	if _, err := os.Stat(filepath.Join(jobs, "job_fine.conf")); err != nil {
		t.Fatalf("the other job was not cached: %v", err)
	}
	found := false
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel && strings.Contains(e.Message, "caching job document failed") && e.Data["job_id"] == "blocked" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no warning for the job that could not be cached; log: %v", hook.AllEntries())
	}
}
