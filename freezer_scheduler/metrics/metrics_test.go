package metrics

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	m := New()
	end := time.Unix(1795628800, 0)
	m.JobStarted("j1")
	m.JobFinished("j1", "success", 90*time.Second, end)
	m.JobFinished("j1", "fail", 10*time.Second, end.Add(time.Hour))
	m.JobFinished(`we"ird`, "aborted", time.Second, end)
	m.Polled(nil)
	m.Polled(errors.New("x"))
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`freezer_scheduler_job_runs_total{job_id="j1"} 2`,
		`freezer_scheduler_job_failures_total{job_id="j1"} 1`,
		`freezer_scheduler_job_duration_seconds_total{job_id="j1"} 100`,
		`freezer_scheduler_job_last_success_timestamp_seconds{job_id="j1"} 1.7956288e+09`,
		`freezer_scheduler_job_aborts_total{job_id="we\"ird"} 1`,
		`freezer_scheduler_job_running{job_id="j1"} 0`,
		"freezer_scheduler_polls_total 2", "freezer_scheduler_poll_errors_total 1",
		"# TYPE freezer_scheduler_job_runs_total counter",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	var nilM *Metrics
	nilM.JobFinished("x", "success", 0, end) // must not panic
}
