//go:build integration

package server_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/freezer_api/store"
	"freezer.dev/freezer/internal/testutil/testenv"
	"freezer.dev/freezer/tools/loadpoll"
)

// Scaling out, as docs/operators.rst describes it: three freezer-api
// processes (our binary) on one MariaDB database, Keystone auth, Debian's
// HAProxy in front balancing round robin. Through the proxy run the
// 500-scheduler poll load and the python-freezerclient transcript, side by
// side; then writes on one instance are read back at once on another,
// which the job cache of that other instance must not answer from what it
// held.
//
// Each part has a project of its own (load: admin; transcript: demo; stale
// reads: other): the transcript's lists show 100 entries by default, and
// the load registers 500 nodes with a job each. The stale-read part runs
// alone, so that the job cache hits it counts are its own.
func TestIntegrationScaleOutBehindHAProxy(t *testing.T) {
	env := testenv.Load(t)
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatalf("haproxy (Debian package haproxy, tools/testenv/install.sh): %v", err)
	}
	bin := apiBinary(t)
	dbURL := env.ScratchMySQLURL(t)
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	insts := make([]*apiProcess, 3)
	var wg sync.WaitGroup
	for i := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			insts[i] = startAPIProcess(t, env, bin, dbURL, fmt.Sprintf("api%d", i+1))
		}()
	}
	wg.Wait()
	for _, in := range insts {
		if in.err != nil {
			t.Fatal(in.err)
		}
	}
	proxy := startHAProxy(t, haproxy, insts)

	login := func(who, endpoint string) *client.Client {
		t.Helper()
		c, err := client.Authenticate(ctx, client.AuthOptions{AuthURL: env.Get(t, "OS_AUTH_URL"),
			Username: env.Get(t, who+"_OS_USERNAME"), Password: env.Get(t, who+"_OS_PASSWORD"),
			ProjectName: env.Get(t, who+"_OS_PROJECT_NAME"), UserDomainName: env.Get(t, who+"_OS_USER_DOMAIN_NAME"),
			ProjectDomainName: env.Get(t, who+"_OS_PROJECT_DOMAIN_NAME"), Endpoint: endpoint})
		if err != nil {
			t.Fatalf("logging in as %s: %v", who, err)
		}
		return c
	}
	stamp := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 10)

	t.Run("parts", func(t *testing.T) {
		t.Run("Load500Schedulers", func(t *testing.T) {
			t.Parallel()
			api := login("ADMIN", proxy)
			before := make([]float64, len(insts))
			for i, in := range insts {
				before[i] = in.metric(t, "freezer_api_requests_total")
			}
			rep, err := loadpoll.Run(ctx, api, loadpoll.Config{Schedulers: 500, Interval: 10 * time.Second,
				Duration: 30 * time.Second, JobsPerScheduler: 1, ClientPrefix: api.ProjectID() + "_scale" + stamp + "_", Seed: 24})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(rep)
			if rep.Failures != 0 {
				t.Errorf("%d polls failed: %v", rep.Failures, rep.FirstErrors)
			}
			// Each node polls at a random point of the first interval,
			// then every interval ±10 %: at least twice in 30 s.
			if rep.Polls < 500*2 {
				t.Errorf("only %d polls", rep.Polls)
			}
			// Round robin gives each instance a third of the requests
			// (1,000 to register the nodes and create their jobs, then the
			// polls); the other parts only add to that.
			for i, in := range insts {
				n := in.metric(t, "freezer_api_requests_total") - before[i]
				rss := in.metric(t, "process_resident_memory_bytes")
				cpu := in.metric(t, "process_cpu_seconds_total")
				t.Logf("%s: %.0f requests during the load, RSS %.1f MiB, CPU %.2f s since start", in.name, n, rss/(1<<20), cpu)
				if want := float64(rep.Polls+1000) / 6; n < want {
					t.Errorf("%s served %.0f requests of the load, want at least %.0f (a sixth): the proxy does not balance", in.name, n, want)
				}
			}
		})
		t.Run("FreezerClientCLI", func(t *testing.T) {
			t.Parallel()
			freezerClientChecks(t, env, proxy)
		})
	})
	t.Run("NoStaleRead", func(t *testing.T) {
		noStaleRead(t, login("OTHER", proxy), insts, stamp)
	})
	for _, in := range insts {
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", in.name, in.logTail(3000))
		}
	}
}

// noStaleRead writes a job (create, PATCH, delete) on one instance and reads
// it at once on the next one and through the proxy, a few hundred times,
// the writer and reader going round the instances. Before each write the
// reader reads the job twice (a get and the scheduler's poll of its
// client), so that its job cache holds both reads: a cache that answered
// them after the write elsewhere would show the old description, or a
// deleted job.
func noStaleRead(t *testing.T, viaProxy *client.Client, insts []*apiProcess, stamp string) {
	ctx := context.Background()
	on := make([]*client.Client, len(insts))
	for i, in := range insts {
		c, err := client.NewNoAuth(in.url, viaProxy.ProjectID(), viaProxy.Token(), nil)
		if err != nil {
			t.Fatal(err)
		}
		on[i] = c
	}
	node := viaProxy.ProjectID() + "_stale" + stamp
	if _, err := viaProxy.RegisterClient(ctx, apiv2.ClientInfo{ClientID: node, Hostname: "stale" + stamp}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viaProxy.DeleteClient(context.Background(), node) })
	hits := func() float64 {
		var n float64
		for _, in := range insts {
			n += in.metric(t, "freezer_api_job_cache_hits_total")
		}
		return n
	}
	// desc reads the job's description as c answers it for a get and
	// for the poll ("" when it does not know the job).
	desc := func(c *client.Client, id string) (get, poll string) {
		t.Helper()
		j, err := c.GetJob(ctx, id)
		var se *client.StatusError
		switch {
		case errors.As(err, &se) && se.Status == http.StatusNotFound:
		case err != nil:
			t.Fatal(err)
		default:
			get = j.Description
		}
		jobs, err := c.ActiveJobs(ctx, node, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if j.JobID == id {
				poll = j.Description
			}
		}
		return get, poll
	}
	const rounds = 300
	hits0 := hits()
	start := time.Now()
	for i := 0; i < rounds && !t.Failed(); i++ {
		w, r := on[i%len(on)], on[(i+1)%len(on)]
		wn, rn := insts[i%len(on)].name, insts[(i+1)%len(on)].name
		check := func(step, jid, want string) {
			t.Helper()
			if g, p := desc(r, jid); g != want || p != want {
				t.Errorf("round %d, after the %s on %s: %s answers get %q, poll %q; want %q (a stale read)", i, step, wn, rn, g, p, want)
			}
			j, err := viaProxy.GetJob(ctx, jid)
			var se *client.StatusError
			switch {
			case want == "" && errors.As(err, &se) && se.Status == http.StatusNotFound:
			case err != nil:
				t.Errorf("round %d, after the %s on %s: the proxy: %v", i, step, wn, err)
			case j.Description != want:
				t.Errorf("round %d, after the %s on %s: the proxy answers %q, want %q", i, step, wn, j.Description, want)
			}
		}
		first := fmt.Sprintf("round %d", i)
		jid, err := w.CreateJob(ctx, apiv2.Job{ClientID: node, Description: first,
			JobSchedule: apiv2.JobSchedule{Status: apiv2.StatusStop},
			JobActions: []apiv2.Action{{FreezerAction: apiv2.FreezerAction{"action": "backup", "mode": "fs",
				"path_to_backup": "/srv", "backup_name": "stale", "container": "stale", "storage": "local"}}}})
		if err != nil {
			t.Fatal(err)
		}
		check("create", jid, first)
		desc(r, jid) // read again: now both reads are in r's cache
		patched := first + " patched"
		if err := w.UpdateJob(ctx, jid, apiv2.JobPatch{Description: &patched}); err != nil {
			t.Fatal(err)
		}
		check("PATCH", jid, patched)
		desc(r, jid)
		if err := w.DeleteJob(ctx, jid); err != nil {
			t.Fatal(err)
		}
		check("delete", jid, "")
	}
	// The second reads before each write were cache hits: the loop did
	// put a cached answer in the reader's way each time, it did not just
	// read the database. (This part runs alone, so that the count is its
	// own.)
	if t.Failed() {
		return // the loop stopped early: the hits are not the whole loop's
	}
	if h := hits() - hits0; h < 4*rounds {
		t.Errorf("job cache hits during the loop: %.0f, want at least %d: the reads before the writes were not cached", h, 4*rounds)
	} else {
		t.Logf("%d rounds in %s, %.0f job cache hits", rounds, time.Since(start).Round(time.Millisecond), h)
	}
}

// apiBinary returns our freezer-api binary: the build of `make
// integration` ($FREEZER_BUILD_DIR) or a fresh one.
func apiBinary(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("FREEZER_BUILD_DIR"); d != "" {
		return filepath.Join(d, "freezer-api")
	}
	out := filepath.Join(t.TempDir(), "freezer-api")
	cmd := exec.Command("go", "build", "-o", out, "./freezer_api/cmd/freezer-api")
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building freezer-api: %v\n%s", err, b)
	}
	return out
}

// apiProcess is one freezer-api process of the test.
type apiProcess struct {
	name, url string
	log       *syncBuffer
	err       error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (p *apiProcess) logTail(n int) string {
	s := p.log.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// metric sums the samples of one metric of the instance's /metrics.
func (p *apiProcess) metric(t *testing.T, name string) float64 {
	t.Helper()
	res, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("%s /metrics: %q: %v", p.name, line, err)
		}
		sum += v
		found = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("%s /metrics has no %s", p.name, name)
	}
	return sum
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startAPIProcess runs our freezer-api binary on dbURL, validating tokens
// with the test Keystone; it is stopped (SIGTERM) when the test ends.
// Safe to call from several goroutines: a failure is in the result's err.
func startAPIProcess(t *testing.T, env *testenv.Env, bin, dbURL, name string) *apiProcess {
	p := &apiProcess{name: name, log: &syncBuffer{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.err = err
		return p
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := fmt.Sprintf(`[DEFAULT]
bind_host = 127.0.0.1
bind_port = %d
[database]
connection = %s
[keystone_authtoken]
auth_url = %s
www_authenticate_uri = %s
auth_type = password
username = %s
password = %s
project_name = %s
user_domain_name = Default
project_domain_name = Default
[healthcheck]
disable_by_file_path = %s
`, port, dbURL, env.Get(t, "OS_AUTH_URL"), env.Get(t, "OS_AUTH_URL"), env.Get(t, "FREEZER_SVC_USERNAME"),
		env.Get(t, "FREEZER_SVC_PASSWORD"), env.Get(t, "FREEZER_SVC_PROJECT_NAME"), filepath.Join(dir, "healthcheck_disable"))
	cf := filepath.Join(dir, "freezer-api.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		p.err = err
		return p
	}
	cmd := exec.Command(bin, "--config-file", cf)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.err = err
		return p
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHealthy(p.url, done, 60*time.Second); err != nil {
		p.err = fmt.Errorf("%s: %w\n%s", name, err, p.logTail(3000))
	}
	return p
}

// waitHealthy waits until url answers /healthcheck with 200, or the process
// ends (done closed).
func waitHealthy(url string, done <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if r, err := http.Get(url + "/healthcheck"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return errors.New("exited before answering /healthcheck")
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("/healthcheck not answering after %s", limit)
}

// startHAProxy runs haproxy in the foreground in front of insts (round
// robin, health-checked on /healthcheck, the configuration of
// docs/operators.rst) and returns its URL; it is stopped when the test ends.
func startHAProxy(t *testing.T, haproxy string, insts []*apiProcess) string {
	t.Helper()
	port := freePort(t)
	var servers strings.Builder
	for _, in := range insts {
		fmt.Fprintf(&servers, "    server %s %s check inter 2s fall 3 rise 2\n", in.name, strings.TrimPrefix(in.url, "http://"))
	}
	cfg := fmt.Sprintf(`global
    maxconn 4096

defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 120s
    timeout server 120s

frontend freezer_api
    bind 127.0.0.1:%d
    default_backend freezer_api_servers

backend freezer_api_servers
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthcheck
    http-check expect status 200
%s`, port, servers.String())
	dir := t.TempDir()
	cf := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(haproxy, "-c", "-f", cf).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, cfg)
	}
	log := &syncBuffer{}
	// -db: stay in the foreground, so that the process started is the one
	// to stop.
	cmd := exec.Command(haproxy, "-db", "-f", cf)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHealthy(url, done, 30*time.Second); err != nil {
		t.Fatalf("haproxy: %v\n%s", err, log.String())
	}
	return url
}
