// Package metrics exposes the scheduler's counters in the Prometheus text
// format (version 0.0.4) without pulling in a client library: a handful of
// counters and gauges keyed by job id is all the scheduler reports.
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metrics collects per-job run statistics. The zero value is not usable;
// call New. A nil *Metrics ignores every call, so callers need no checks.
type Metrics struct {
	mu          sync.Mutex
	runs        map[string]float64 // job_id -> runs finished
	failed      map[string]float64 // job_id -> runs that did not succeed
	aborted     map[string]float64
	durSum      map[string]float64 // seconds
	lastSuccess map[string]float64 // epoch seconds
	running     map[string]float64
	polls       float64
	pollErrors  float64
}

// New returns an empty collector.
func New() *Metrics {
	return &Metrics{runs: map[string]float64{}, failed: map[string]float64{}, aborted: map[string]float64{},
		durSum: map[string]float64{}, lastSuccess: map[string]float64{}, running: map[string]float64{}}
}

// JobStarted marks a job as running.
func (m *Metrics) JobStarted(jobID string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running[jobID] = 1
}

// JobFinished records one finished run with its result ("success", "fail"
// or "aborted"), duration and end time.
func (m *Metrics) JobFinished(jobID, result string, took time.Duration, end time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running[jobID] = 0
	m.runs[jobID]++
	m.durSum[jobID] += took.Seconds()
	switch result {
	case "success":
		m.lastSuccess[jobID] = float64(end.Unix())
	case "aborted":
		m.aborted[jobID]++
		m.failed[jobID]++
	default:
		m.failed[jobID]++
	}
}

// Polled records one poll of the API.
func (m *Metrics) Polled(err error) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.polls++
	if err != nil {
		m.pollErrors++
	}
}

// ServeHTTP writes the metrics in the Prometheus text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_ = m.Write(w)
}

// Write renders the metrics.
func (m *Metrics) Write(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	family(&b, "freezer_scheduler_job_runs_total", "counter", "Job runs finished.", m.runs)
	family(&b, "freezer_scheduler_job_failures_total", "counter", "Job runs that failed or were aborted.", m.failed)
	family(&b, "freezer_scheduler_job_aborts_total", "counter", "Job runs that were aborted.", m.aborted)
	family(&b, "freezer_scheduler_job_duration_seconds_total", "counter", "Time spent running jobs.", m.durSum)
	family(&b, "freezer_scheduler_job_last_success_timestamp_seconds", "gauge", "End time of the last successful run.", m.lastSuccess)
	family(&b, "freezer_scheduler_job_running", "gauge", "1 while the job runs.", m.running)
	fmt.Fprintf(&b, "# HELP freezer_scheduler_polls_total Polls of freezer-api.\n# TYPE freezer_scheduler_polls_total counter\nfreezer_scheduler_polls_total %s\n", num(m.polls))
	fmt.Fprintf(&b, "# HELP freezer_scheduler_poll_errors_total Polls of freezer-api that failed.\n# TYPE freezer_scheduler_poll_errors_total counter\nfreezer_scheduler_poll_errors_total %s\n", num(m.pollErrors))
	_, err := io.WriteString(w, b.String())
	return err
}

func family(b *strings.Builder, name, typ, help string, vals map[string]float64) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	ids := make([]string, 0, len(vals))
	for id := range vals {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(b, "%s{job_id=%s} %s\n", name, quote(id), num(vals[id]))
	}
}

func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
