// Command freezer-api-bench measures a Freezer v2 API (ours, and
// optionally a reference such as the upstream Python freezer-api) with the
// requests that matter in production, and prints requests/s, p50 and p99
// for each, and the ratio ours/reference.
//
//	freezer-api-bench --url http://127.0.0.1:9090 [--ref-url http://127.0.0.1:9091]
//	    [--jobs 10000] [--backups 100000] [--ref-jobs N] [--ref-backups N]
//	    [--concurrency 200] [--duration 20s] [--rounds 1] [--pid PID] [--ref-pid PID] [--db-pid PID]
//
// With --rounds N each scenario runs N times per target, ours and the
// reference taking turns to go first; every round is listed, and the
// table row is the round with the median requests/s (two servers sharing
// a small machine vary by up to a third from run to run, upstream as much as
// ours, and a single run's ratio says little).
//
// With the process ids it also prints, per scenario, the CPU time the
// server and the database used per answered request, and the machine's
// busy time per request (load generator and kernel included).
//
// Identity: with OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME,
// OS_USER_DOMAIN_NAME and OS_PROJECT_DOMAIN_NAME in the environment it logs
// in to Keystone and sends the token; otherwise --project names the project
// of a noauth server.
//
// Scenarios (each runs --duration with --concurrency closed-loop workers):
// job list (GET jobs?limit=10), job get, the scheduler's poll (GET jobs
// with {"match":[{"client_id":C}],"match_not":[{"status":"completed"}]}),
// backup create, and backup search ({"match":[{"backup_name":B}]}).
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	neturl "net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"freezer.dev/freezer/internal/config"
)

type target struct {
	name     string
	url      string
	project  string
	token    string
	jobs     int
	backups  int
	clients  []string
	jobIDs   []string
	hc       *http.Client
	seedConc int
	procs    []procGroup // charged with the CPU of its requests
}

type result struct {
	n, errs  int
	rps      float64
	p50, p99 time.Duration
	firstErr string
}

// options are freezer-api-bench's command line.
func options() config.Schema {
	return config.Schema{
		{Name: "url", Default: "http://127.0.0.1:9090", CLIOnly: true, Help: "API under test."},
		{Name: "ref_url", CLIOnly: true, Help: "Reference API (e.g. upstream Python freezer-api); empty: ours only."},
		{Name: "jobs", Type: config.Int, Default: "10000", CLIOnly: true, Help: "Jobs to seed in ours."},
		{Name: "backups", Type: config.Int, Default: "100000", CLIOnly: true, Help: "Backups to seed in ours."},
		{Name: "ref_jobs", Type: config.Int, Default: "-1", CLIOnly: true, Help: "Jobs to seed in the reference (default: --jobs)."},
		{Name: "ref_backups", Type: config.Int, Default: "-1", CLIOnly: true, Help: "Backups to seed in the reference (default: --backups)."},
		{Name: "clients", Type: config.Int, Default: "100", CLIOnly: true, Help: "Scheduler clients the jobs are spread over."},
		{Name: "concurrency", Type: config.Int, Default: "200", CLIOnly: true, Help: "Concurrent workers per scenario."},
		{Name: "seed_concurrency", Type: config.Int, Default: "32", CLIOnly: true, Help: "Concurrent workers while seeding."},
		{Name: "duration", Default: "20s", CLIOnly: true, Help: "Duration of each scenario (a Go duration)."},
		{Name: "project", Default: "bench", CLIOnly: true, Help: "Project id for a noauth server (ignored with Keystone)."},
		{Name: "pid", Type: config.Int, Default: "0", CLIOnly: true, Help: "Process id of our API, to report its peak RSS and the CPU it used per request."},
		{Name: "ref_pid", Type: config.Int, Default: "0", CLIOnly: true, Help: "Process id of the reference API (uwsgi's master: its children are counted too), to report the CPU it used per request."},
		{Name: "db_pid", Type: config.Int, Default: "0", CLIOnly: true, Help: "Process id of the database server, to report the CPU it used per request."},
		{Name: "skip_seed", Type: config.Bool, CLIOnly: true, Help: "Do not seed (the data of an earlier run is reused)."},
		{Name: "rate", CLIOnly: true, Help: "Open loop instead of closed: scenario=req/s pairs, e.g. \"job get=4800,job list=7600\"; the --concurrency workers share the rate, and latency counts from each request's scheduled time (no coordinated omission)."},
		{Name: "rounds", Type: config.Int, Default: "1", CLIOnly: true, Help: "Rounds per scenario and target, alternating which target goes first; the table shows the round with the median req/s and lists every round."},
		{Name: "scenarios", CLIOnly: true, Help: "Comma-separated scenarios to run (default: all), e.g. \"job list,job get\"."},
		config.HelpOpt(""),
	}
}

func main() {
	opts := options()
	v, rest, err := opts.ParseCommandLine(os.Args[1:])
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	var dur time.Duration
	if err == nil {
		if dur, err = time.ParseDuration(v.String("", "duration")); err != nil {
			err = fmt.Errorf("--duration: %w", err)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-api-bench:", err)
		os.Exit(2)
	}
	if v.Bool("", "help") {
		config.WriteHelp(os.Stdout, config.Help{Usage: "freezer-api-bench [options]",
			Description: "Measures a Freezer v2 API, and optionally a reference one, with the requests that matter in production."}, opts)
		return
	}
	url, ref := v.String("", "url"), v.String("", "ref_url")
	jobs, backups := v.Int("", "jobs"), v.Int("", "backups")
	refJobs, refBackups := v.Int("", "ref_jobs"), v.Int("", "ref_backups")
	clients, conc, seedConc := v.Int("", "clients"), v.Int("", "concurrency"), v.Int("", "seed_concurrency")
	project := v.String("", "project")
	pid, refPid, dbPid := v.Int("", "pid"), v.Int("", "ref_pid"), v.Int("", "db_pid")
	skipSeed := v.Bool("", "skip_seed")
	rates, rounds, only := v.String("", "rate"), v.Int("", "rounds"), v.String("", "scenarios")

	ctx := context.Background()
	tok, proj, err := login(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-api-bench:", err)
		os.Exit(1)
	}
	if proj == "" {
		proj = project
	}
	tr := &http.Transport{MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000, IdleConnTimeout: time.Minute}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	mk := func(name, u string, j, b int) *target {
		t := &target{name: name, url: strings.TrimRight(u, "/"), project: proj, token: tok, jobs: j, backups: b, hc: hc, seedConc: seedConc}
		for i := 0; i < clients; i++ {
			t.clients = append(t.clients, fmt.Sprintf("%s_bench-node-%03d", proj, i))
		}
		return t
	}
	for _, u := range []string{url, ref} {
		// The measuring workers speak plain HTTP on their own connections.
		if u != "" && !strings.HasPrefix(u, "http://") {
			fmt.Fprintf(os.Stderr, "freezer-api-bench: %s: only http:// URLs can be measured\n", u)
			os.Exit(2)
		}
	}
	targets := []*target{mk("ours", url, jobs, backups)}
	targets[0].procs = procGroups(pid, false, dbPid)
	if ref != "" {
		rj, rb := refJobs, refBackups
		if rj < 0 {
			rj = jobs
		}
		if rb < 0 {
			rb = backups
		}
		targets = append(targets, mk("reference", ref, rj, rb))
		targets[1].procs = procGroups(refPid, true, dbPid)
	}
	for _, t := range targets {
		start := time.Now()
		if err := t.seed(ctx, skipSeed); err != nil {
			fmt.Fprintf(os.Stderr, "freezer-api-bench: seeding %s: %v\n", t.name, err)
			os.Exit(1)
		}
		fmt.Printf("# %s (%s): %d jobs over %d clients, %d backups (seeding %s)\n", t.name, t.url, len(t.jobIDs), len(t.clients), t.backups, time.Since(start).Round(time.Second))
	}
	scenarios := []struct {
		name string
		req  func(t *target, r *rand.Rand) (*http.Request, int)
	}{
		{"job list", func(t *target, r *rand.Rand) (*http.Request, int) {
			return t.request("GET", "/jobs?limit=10", nil), 200
		}},
		{"job get", func(t *target, r *rand.Rand) (*http.Request, int) {
			return t.request("GET", "/jobs/"+t.jobIDs[r.IntN(len(t.jobIDs))], nil), 200
		}},
		{"scheduler poll", func(t *target, r *rand.Rand) (*http.Request, int) {
			c := t.clients[r.IntN(len(t.clients))]
			body := `{"match":[{"client_id":"` + c + `"}],"match_not":[{"status":"completed"}]}`
			return t.request("GET", "/jobs?limit=10&offset=0", []byte(body)), 200
		}},
		{"backup create", func(t *target, r *rand.Rand) (*http.Request, int) {
			return t.request("POST", "/backups", backupDoc(t, r.IntN(1<<30))), 201
		}},
		{"backup search", func(t *target, r *rand.Rand) (*http.Request, int) {
			body := `{"match":[{"backup_name":"` + fmt.Sprintf("bench-%d", r.IntN(max(t.backups, 1))) + `"}]}`
			return t.request("GET", "/backups?limit=10", []byte(body)), 200
		}},
	}
	fmt.Printf("# %d workers, %s per scenario\n", conc, dur)
	fmt.Printf("%-16s %-10s %10s %10s %10s %8s", "scenario", "target", "req/s", "p50", "p99", "errors")
	if len(targets) > 1 {
		fmt.Printf(" %12s", "ratio req/s")
	}
	fmt.Println()
	for _, sc := range scenarios {
		if only != "" && !slices.Contains(strings.Split(only, ","), sc.name) {
			continue
		}
		rate := 0.0
		if rates != "" {
			rate = rateFor(rates, sc.name)
			if rate <= 0 {
				continue
			}
		}
		runs := make([][]result, len(targets))
		for round := 0; round < max(rounds, 1); round++ {
			order := make([]int, len(targets))
			for i := range order {
				order[i] = i
			}
			if round%2 == 1 {
				slices.Reverse(order)
			}
			for _, ti := range order {
				t := targets[ti]
				if d, ok := settle(time.Minute); !ok {
					fmt.Printf("# machine still busy after %s, measuring anyway\n", d.Round(time.Second))
				} else if d > 2*time.Second {
					fmt.Printf("# machine idle after %s\n", d.Round(time.Second))
				}
				h0, m0, cached := t.cacheCounters()
				var r result
				cpu := startCPU(t.procs)
				if rate > 0 {
					r = runOpen(t, conc, dur, rate, sc.req)
				} else {
					r = run(t, conc, dur, sc.req)
				}
				perReq := cpu.per(r.n)
				runs[ti] = append(runs[ti], r)
				fmt.Printf("#   %s, %s, round %d: %.1f req/s, p50 %s, p99 %s, %d errors\n", sc.name, t.name, round+1,
					r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.errs)
				if perReq != "" {
					fmt.Printf("#   CPU per answered request: %s\n", perReq)
				}
				if h1, m1, ok := t.cacheCounters(); cached && ok && h1+m1 > h0+m0 {
					h, m := h1-h0, m1-m0
					fmt.Printf("#   %s, %s, round %d: job cache %.0f hits, %.0f misses (%.1f %% misses)\n",
						sc.name, t.name, round+1, h, m, 100*m/(h+m))
				}
				if d, ok := t.drain(3 * time.Minute); !ok {
					fmt.Printf("# %s still busy %s after the scenario\n", t.name, d.Round(time.Second))
				} else if d > 2*time.Second {
					fmt.Printf("# %s idle again %s after the scenario\n", t.name, d.Round(time.Second))
				}
			}
		}
		var res []result
		for ti, t := range targets {
			r := medianRun(runs[ti])
			res = append(res, r)
			fmt.Printf("%-16s %-10s %10.1f %10s %10s %8d", sc.name, t.name, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.errs)
			if len(res) == 2 && res[1].rps > 0 {
				fmt.Printf(" %11.1fx", res[0].rps/res[1].rps)
			}
			fmt.Println()
			if r.firstErr != "" {
				fmt.Printf("#   first error: %s\n", r.firstErr)
			}
		}
	}
	if pid > 0 {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "VmRSS") {
					fmt.Println("# ours", strings.Join(strings.Fields(l), " "))
				}
			}
		}
	}
}

// medianRun is the run with the median requests/s (the lower of the two
// middle ones for an even count), with the errors of every run and the
// first error seen.
func medianRun(runs []result) result {
	if len(runs) == 0 {
		return result{}
	}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b result) int { return cmp.Compare(a.rps, b.rps) })
	m := sorted[(len(sorted)-1)/2]
	m.errs, m.firstErr = 0, ""
	for _, r := range runs {
		m.errs += r.errs
		if m.firstErr == "" {
			m.firstErr = r.firstErr
		}
	}
	return m
}

func login(ctx context.Context) (string, string, error) {
	if os.Getenv("OS_AUTH_URL") == "" {
		return "", "", nil
	}
	env := func(names ...string) string {
		for _, n := range names {
			if v := os.Getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: os.Getenv("OS_AUTH_URL"),
		Username:         os.Getenv("OS_USERNAME"),
		Password:         os.Getenv("OS_PASSWORD"),
		DomainName:       env("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME"),
		Scope:            &gophercloud.AuthScope{ProjectID: os.Getenv("OS_PROJECT_ID")},
	}
	if ao.Scope.ProjectID == "" {
		ao.Scope = &gophercloud.AuthScope{ProjectName: os.Getenv("OS_PROJECT_NAME"), DomainName: env("OS_PROJECT_DOMAIN_NAME", "OS_DOMAIN_NAME")}
	}
	pc, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		return "", "", fmt.Errorf("logging in to Keystone: %w", err)
	}
	tok, err := pc.GetAuthResult().ExtractTokenID()
	if err != nil {
		return "", "", err
	}
	pid := os.Getenv("OS_PROJECT_ID")
	if cr, ok := pc.GetAuthResult().(tokens.CreateResult); ok && pid == "" {
		if p, err := cr.ExtractProject(); err == nil && p != nil {
			pid = p.ID
		}
	}
	if pid == "" {
		return "", "", fmt.Errorf("set OS_PROJECT_ID (the project id is part of every URL)")
	}
	return tok, pid, nil
}

func (t *target) request(method, path string, body []byte) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, t.url+"/v2/"+t.project+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if t.token != "" {
		req.Header.Set("X-Auth-Token", t.token)
	} else {
		req.Header.Set("X-Project-Id", t.project)
		req.Header.Set("X-User-Id", "bench")
		req.Header.Set("X-Roles", "member")
	}
	return req
}

// drain waits until the target answers its versions document quickly
// twice in a row, for at most max. A server that queued requests (uwsgi
// does, past the clients' 30 s timeout) goes on working them off after a
// scenario ends; the next scenario, on either server, must not run
// beside that.
func (t *target) drain(max time.Duration) (time.Duration, bool) {
	start := time.Now()
	fast := 0
	for time.Since(start) < max {
		t0 := time.Now()
		req, _ := http.NewRequest("GET", t.url+"/", nil)
		res, err := t.hc.Do(req)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if err == nil && time.Since(t0) < 100*time.Millisecond {
			if fast++; fast == 2 {
				return time.Since(start), true
			}
		} else {
			fast = 0
			time.Sleep(200 * time.Millisecond)
		}
	}
	return time.Since(start), false
}

// settle waits, for at most max, until the machine's CPUs are less than
// 15 % busy over half a second: after seeding, MariaDB flushes for a while
// what was written, and a scenario measured beside that says little.
// Where /proc/stat cannot be read it does not wait.
func settle(max time.Duration) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < max {
		b0, t0, err := cpuTicks()
		if err != nil {
			return 0, true
		}
		time.Sleep(500 * time.Millisecond)
		b1, t1, err := cpuTicks()
		if err != nil {
			return 0, true
		}
		if t1 > t0 && float64(b1-b0)/float64(t1-t0) < 0.15 {
			return time.Since(start), true
		}
	}
	return time.Since(start), false
}

// cpuTicks returns the busy and total ticks of all CPUs (/proc/stat).
func cpuTicks() (busy, total uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat: %.40q", line)
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}

// procGroups are the processes a target's requests are charged with.
func procGroups(server int, children bool, db int) []procGroup {
	var g []procGroup
	if server > 0 {
		g = append(g, procGroup{label: "server", pid: server, children: children})
	}
	if db > 0 {
		g = append(g, procGroup{label: "database", pid: db})
	}
	return g
}

// host is the target's host:port, for the measuring workers' connections.
func (t *target) host() string {
	u, err := neturl.Parse(t.url)
	if err != nil || u.Host == "" {
		return t.url
	}
	if u.Port() == "" {
		return u.Host + ":80"
	}
	return u.Host
}

// cacheCounters reads our API's job cache counters from its /metrics; ok
// is false for a server without them (upstream has no /metrics).
func (t *target) cacheCounters() (hits, misses float64, ok bool) {
	res, err := t.hc.Get(t.url + "/metrics")
	if err != nil {
		return 0, 0, false
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, 0, false
	}
	var seen int
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		var dst *float64
		switch f[0] {
		case "freezer_api_job_cache_hits_total":
			dst = &hits
		case "freezer_api_job_cache_misses_total":
			dst = &misses
		default:
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return 0, 0, false
		}
		*dst = v
		seen++
	}
	return hits, misses, sc.Err() == nil && seen == 2
}

func (t *target) do(req *http.Request, want int) ([]byte, error) {
	res, err := t.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return b, fmt.Errorf("%s %s: status %d: %.200s", req.Method, req.URL.Path, res.StatusCode, b)
	}
	return b, nil
}

func backupDoc(t *target, i int) []byte {
	return []byte(fmt.Sprintf(`{"container":"bench","hostname":"node-%03d","backup_name":"bench-%d","time_stamp":%d,"level":%d,"curr_backup_level":%d,"path_to_backup":"/var/lib/data","mode":"fs","storage":"swift","backup_media":"fs","engine_name":"tar","compression":"zstd","encrypted":false,"client_os":"linux","client_version":"bench","job_id":"%s"}`,
		i%len(t.clients), i, 1790000000+i, i%7, i%7, t.jobIDOrEmpty(i)))
}

func (t *target) jobIDOrEmpty(i int) string {
	if len(t.jobIDs) == 0 {
		return ""
	}
	return t.jobIDs[i%len(t.jobIDs)]
}

// parallel runs fn(i) for i in [0,n) on the seeding workers.
func (t *target) parallel(n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, t.seedConc)
	for w := 0; w < t.seedConc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errc <- err
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func (t *target) seed(ctx context.Context, skip bool) error {
	if err := t.parallel(len(t.clients), func(i int) error {
		body := fmt.Sprintf(`{"client_id":"%s","hostname":"bench-node-%03d","description":"bench"}`, t.clients[i], i)
		_, err := t.do(t.request("POST", "/clients", []byte(body)), 201)
		if err != nil && strings.Contains(err.Error(), "status 409") {
			return nil
		}
		return err
	}); err != nil {
		return err
	}
	if !skip {
		var mu sync.Mutex
		if err := t.parallel(t.jobs, func(i int) error {
			status := []string{"", "scheduled", "completed", "completed"}[i%4]
			body := fmt.Sprintf(`{"client_id":"%s","description":"bench job %d","job_schedule":{"schedule_interval":"1 days","status":"%s"},"job_actions":[{"freezer_action":{"action":"backup","mode":"fs","path_to_backup":"/var/lib/data","backup_name":"bench-%d","container":"bench","storage":"swift"}}]}`,
				t.clients[i%len(t.clients)], i, status, i)
			b, err := t.do(t.request("POST", "/jobs", []byte(body)), 201)
			if err != nil {
				return err
			}
			var r struct {
				JobID string `json:"job_id"`
			}
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			mu.Lock()
			t.jobIDs = append(t.jobIDs, r.JobID)
			mu.Unlock()
			return nil
		}); err != nil {
			return err
		}
		if err := t.parallel(t.backups, func(i int) error {
			_, err := t.do(t.request("POST", "/backups", backupDoc(t, i)), 201)
			return err
		}); err != nil {
			return err
		}
		return nil
	}
	// Reuse: collect existing job ids.
	for off := 0; ; off += 1000 {
		b, err := t.do(t.request("GET", fmt.Sprintf("/jobs?limit=1000&offset=%d", off), nil), 200)
		if err != nil {
			return err
		}
		var r struct {
			Jobs []struct {
				JobID string `json:"job_id"`
			} `json:"jobs"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		for _, j := range r.Jobs {
			t.jobIDs = append(t.jobIDs, j.JobID)
		}
		if len(r.Jobs) < 1000 {
			break
		}
	}
	if len(t.jobIDs) == 0 {
		return fmt.Errorf("--skip-seed: the project has no jobs")
	}
	return nil
}

// rateFor returns the rate given for scenario name in "a=1,b=2", or 0.
func rateFor(spec, name string) float64 {
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(k) == name {
			var f float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%g", &f); err == nil {
				return f
			}
		}
	}
	return 0
}

// runOpen offers rate requests/s for d, spread over conc workers, each
// sending on its own schedule. A request's latency is counted from the
// time it was due, so a server that falls behind shows it in p99 instead
// of slowing the load down (as a closed loop would).
func runOpen(t *target, conc int, d time.Duration, rate float64, mk func(*target, *rand.Rand) (*http.Request, int)) result {
	var wg sync.WaitGroup
	lat := make([][]time.Duration, conc)
	errs := make([]int, conc)
	var firstErr atomic.Value
	start := time.Now()
	interval := time.Duration(float64(conc) / rate * float64(time.Second))
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 43))
			conn := &workerConn{addr: t.host()}
			defer conn.close()
			// Workers start spread over one interval, not all at once.
			due := start.Add(time.Duration(float64(interval) * float64(w) / float64(conc)))
			for ; due.Before(start.Add(d)); due = due.Add(interval) {
				if wait := time.Until(due); wait > 0 {
					time.Sleep(wait)
				}
				req, want := mk(t, r)
				err := conn.do(req, want)
				if err != nil {
					errs[w]++
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], time.Since(due))
			}
		}(w)
	}
	wg.Wait()
	return summarize(lat, errs, time.Since(start), &firstErr)
}

func run(t *target, conc int, d time.Duration, mk func(*target, *rand.Rand) (*http.Request, int)) result {
	var wg sync.WaitGroup
	lat := make([][]time.Duration, conc)
	errs := make([]int, conc)
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			conn := &workerConn{addr: t.host()}
			defer conn.close()
			for time.Now().Before(deadline) {
				req, want := mk(t, r)
				t0 := time.Now()
				err := conn.do(req, want)
				el := time.Since(t0)
				if err != nil {
					errs[w]++
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], el)
			}
		}(w)
	}
	wg.Wait()
	return summarize(lat, errs, time.Since(start), &firstErr)
}

// summarize merges the workers' latencies and errors into a result.
func summarize(lat [][]time.Duration, errs []int, elapsed time.Duration, firstErr *atomic.Value) result {
	var all []time.Duration
	res := result{}
	for w := range lat {
		all = append(all, lat[w]...)
		res.errs += errs[w]
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.n = len(all)
	res.rps = float64(len(all)) / elapsed.Seconds()
	if len(all) > 0 {
		res.p50 = all[len(all)*50/100]
		res.p99 = all[min(len(all)-1, len(all)*99/100)]
	}
	if v := firstErr.Load(); v != nil {
		res.firstErr = v.(string)
	}
	return res
}
