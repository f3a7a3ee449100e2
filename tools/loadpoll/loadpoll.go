// Package loadpoll simulates many freezer-schedulers polling one
// freezer-api, the scheduler poll load test: each simulated node registers its
// client, optionally owns a few jobs, and polls its active jobs at the
// scheduler's interval with the scheduler's search, its start spread over
// the first interval. Every poll's latency is recorded.
package loadpoll

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/client"
)

// Config describes the load.
type Config struct {
	Schedulers int
	Interval   time.Duration
	Duration   time.Duration
	// JobsPerScheduler jobs are created for each node before the run (they
	// are polled back on every poll, as real active jobs are).
	JobsPerScheduler int
	// ClientPrefix names the nodes <prefix><n>.
	ClientPrefix string
	Seed         uint64
}

// Report summarises a run.
type Report struct {
	Polls, Failures         int
	P50, P95, P99, Max      time.Duration
	FirstErrors             []string
	Schedulers, JobsCreated int
}

func (r Report) String() string {
	return fmt.Sprintf("schedulers=%d jobs=%d polls=%d failures=%d p50=%s p95=%s p99=%s max=%s",
		r.Schedulers, r.JobsCreated, r.Polls, r.Failures, r.P50, r.P95, r.P99, r.Max)
}

// Run registers the nodes, creates their jobs and polls until cfg.Duration
// has passed or ctx is cancelled.
func Run(ctx context.Context, c *client.Client, cfg Config) (Report, error) {
	if cfg.Schedulers <= 0 || cfg.Interval <= 0 || cfg.Duration <= 0 {
		return Report{}, fmt.Errorf("loadpoll: schedulers, interval and duration must be positive")
	}
	if cfg.ClientPrefix == "" {
		cfg.ClientPrefix = c.ProjectID() + "_loadnode"
	}
	rep := Report{Schedulers: cfg.Schedulers}
	ids := make([]string, cfg.Schedulers)
	for i := range ids {
		ids[i] = cfg.ClientPrefix + strconv.Itoa(i)
		if _, err := c.RegisterClient(ctx, apiv2.ClientInfo{ClientID: ids[i], Hostname: "loadnode" + strconv.Itoa(i)}); err != nil {
			return rep, fmt.Errorf("registering %s: %w", ids[i], err)
		}
		for k := 0; k < cfg.JobsPerScheduler; k++ {
			_, err := c.CreateJob(ctx, apiv2.Job{ClientID: ids[i], Description: "loadpoll",
				JobSchedule: apiv2.JobSchedule{Status: apiv2.StatusStop},
				JobActions: []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": "backup", "mode": "fs",
					"path_to_backup": "/srv", "backup_name": "load", "container": "load", "storage": "local"}}}})
			if err != nil {
				return rep, fmt.Errorf("creating a job for %s: %w", ids[i], err)
			}
			rep.JobsCreated++
		}
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	for i, id := range ids {
		offset := time.Duration(rng.Float64() * float64(cfg.Interval))
		jit := rand.New(rand.NewPCG(cfg.Seed+uint64(i), 1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait := offset
			for {
				select {
				case <-rctx.Done():
					return
				case <-time.After(wait):
				}
				start := time.Now()
				jobs, err := c.ActiveJobs(rctx, id, false)
				took := time.Since(start)
				if rctx.Err() != nil {
					return // cut off by the end of the run, not a failure
				}
				mu.Lock()
				lat = append(lat, took)
				if err == nil && len(jobs) != cfg.JobsPerScheduler {
					err = fmt.Errorf("%s: polled %d jobs, want %d", id, len(jobs), cfg.JobsPerScheduler)
				}
				if err != nil {
					rep.Failures++
					if len(rep.FirstErrors) < 5 {
						rep.FirstErrors = append(rep.FirstErrors, err.Error())
					}
				}
				mu.Unlock()
				// The scheduler's jitter: +-10 % of the interval.
				wait = time.Duration(float64(cfg.Interval)*(0.9+0.2*jit.Float64())) - took
				if wait < 0 {
					wait = 0
				}
			}
		}()
	}
	wg.Wait()
	rep.Polls = len(lat)
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		rep.P50, rep.P95, rep.P99, rep.Max = q(0.50), q(0.95), q(0.99), lat[len(lat)-1]
	}
	return rep, nil
}
