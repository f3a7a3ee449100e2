package server

import (
	"database/sql"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"freezer.dev/freezer/freezer_api/jobcache"
)

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// newMetrics registers the API's metrics, the Go runtime's, the DB
// pool's and the job cache's on reg.
func newMetrics(reg *prometheus.Registry, dbStats func() sql.DBStats, cacheStats func() jobcache.Stats) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "freezer_api_requests_total", Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "freezer_api_request_duration_seconds", Help: "HTTP request latency by route template and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if dbStats != nil {
		gauge := func(name, help string, f func(sql.DBStats) float64) {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "freezer_api_db_" + name, Help: help},
				func() float64 { return f(dbStats()) }))
		}
		counter := func(name, help string, f func(sql.DBStats) float64) {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "freezer_api_db_" + name, Help: help},
				func() float64 { return f(dbStats()) }))
		}
		gauge("max_open_connections", "Maximum number of open DB connections.", func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) })
		gauge("open_connections", "Open DB connections.", func(s sql.DBStats) float64 { return float64(s.OpenConnections) })
		gauge("in_use_connections", "DB connections in use.", func(s sql.DBStats) float64 { return float64(s.InUse) })
		gauge("idle_connections", "Idle DB connections.", func(s sql.DBStats) float64 { return float64(s.Idle) })
		counter("wait_count_total", "Times a request waited for a DB connection.", func(s sql.DBStats) float64 { return float64(s.WaitCount) })
		counter("wait_seconds_total", "Time spent waiting for DB connections.", func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() })
	}
	if cacheStats != nil {
		counter := func(name, help string, v func(jobcache.Stats) uint64) {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "freezer_api_job_cache_" + name, Help: help},
				func() float64 { return float64(v(cacheStats())) }))
		}
		gauge := func(name, help string, v func(jobcache.Stats) int) {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "freezer_api_job_cache_" + name, Help: help},
				func() float64 { return float64(v(cacheStats())) }))
		}
		counter("hits_total", "Job reads (list, get, poll) answered from the job cache.", func(s jobcache.Stats) uint64 { return s.Hits })
		counter("misses_total", "Job reads that read the database (not cached, changed or expired).", func(s jobcache.Stats) uint64 { return s.Misses })
		counter("generation_reads_total", "Reads of a project's job generation, each shared by the requests waiting for it.",
			func(s jobcache.Stats) uint64 { return s.GenerationReads })
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "freezer_api_job_get_reads_total",
			Help: "Database reads made for job gets, each shared by the concurrent gets of a project."},
			func() float64 { return float64(cacheStats().GetReads) }))
		gauge("entries", "Job reads held in the job cache.", func(s jobcache.Stats) int { return s.Entries })
		gauge("bytes", "Size of the job cache as accounted against [api] job_cache_size.", func(s jobcache.Stats) int { return s.Bytes })
	}
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}
