//go:build integration

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/freezer_api/store"
	"freezer.dev/freezer/internal/testutil/testenv"
	"freezer.dev/freezer/tools/loadpoll"
)

// The scheduler's acceptance, end to end: our freezer-api (in this process,
// Keystone auth, SQLite), our freezer-scheduler and freezer-agent binaries
// as separate processes, real Keystone and Swift from the test
// environment, and python-freezerclient for creating jobs.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
	builtIn string // a directory this run built the binaries into
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtIn != "" {
		os.RemoveAll(builtIn)
	}
	os.Exit(code)
}

// binaries returns the directory holding freezer-scheduler and
// freezer-agent: $FREEZER_BUILD_DIR (make integration) or a fresh build.
func binaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if d := os.Getenv("FREEZER_BUILD_DIR"); d != "" {
			binDir = d
			return
		}
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			binErr = err
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		binDir, binErr = os.MkdirTemp("", "freezer-sched-it-bin")
		if binErr != nil {
			return
		}
		builtIn = binDir
		for _, c := range []string{"freezer/cmd/freezer-agent", "freezer_scheduler/cmd/freezer-scheduler"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, filepath.Base(c)), "./"+c)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("building %s: %v\n%s", c, err, b)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	for _, b := range []string{"freezer-scheduler", "freezer-agent"} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			t.Fatalf("missing binary: %v", err)
		}
	}
	return binDir
}

type world struct {
	t      *testing.T
	env    *testenv.Env
	url    string
	api    *client.Client // demo's client
	bin    string
	demo   map[string]string // OS_* of demo, with OS_BACKUP_URL
	prefix string
	// agent is the agent the schedulers run: ours unless a test sets it.
	agent string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := testenv.Load(t)
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "freezer.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ks, err := auth.NewKeystone(ctx, auth.KeystoneConfig{AuthURL: env.Get(t, "OS_AUTH_URL"),
		Username: env.Get(t, "FREEZER_SVC_USERNAME"), Password: env.Get(t, "FREEZER_SVC_PASSWORD"),
		ProjectName: env.Get(t, "FREEZER_SVC_PROJECT_NAME"), UserDomainName: "Default", ProjectDomainName: "Default",
		RegionName: env.Get(t, "OS_REGION_NAME")})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := auth.NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	lg := logrus.New()
	lg.SetOutput(io.Discard)
	srv := httptest.NewServer(server.New(server.Config{Store: jobcache.New(st, jobcache.Options{}), Auth: ks, Policy: pol, Logger: logrus.NewEntry(lg)}))
	t.Cleanup(srv.Close)
	w := &world{t: t, env: env, url: srv.URL, bin: binaries(t),
		prefix: fmt.Sprintf("it%d", time.Now().UnixNano()%1_000_000_000)}
	w.demo = map[string]string{
		"OS_AUTH_URL": env.Get(t, "OS_AUTH_URL"), "OS_REGION_NAME": env.Get(t, "OS_REGION_NAME"),
		"OS_USERNAME": env.Get(t, "DEMO_OS_USERNAME"), "OS_PASSWORD": env.Get(t, "DEMO_OS_PASSWORD"),
		"OS_PROJECT_NAME": env.Get(t, "DEMO_OS_PROJECT_NAME"), "OS_PROJECT_ID": env.Get(t, "DEMO_OS_PROJECT_ID"),
		"OS_USER_DOMAIN_NAME": env.Get(t, "DEMO_OS_USER_DOMAIN_NAME"), "OS_PROJECT_DOMAIN_NAME": env.Get(t, "DEMO_OS_PROJECT_DOMAIN_NAME"),
		"OS_IDENTITY_API_VERSION": "3", "OS_BACKUP_URL": srv.URL, "OS_BACKUP_API_VERSION": "2",
	}
	w.api, err = client.Authenticate(ctx, client.AuthOptions{AuthURL: w.demo["OS_AUTH_URL"], Username: w.demo["OS_USERNAME"],
		Password: w.demo["OS_PASSWORD"], ProjectName: w.demo["OS_PROJECT_NAME"], UserDomainName: "Default",
		ProjectDomainName: "Default", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if w.api.ProjectID() != w.demo["OS_PROJECT_ID"] {
		t.Fatalf("Keystone project %s, want demo's %s", w.api.ProjectID(), w.demo["OS_PROJECT_ID"])
	}
	t.Cleanup(w.removeContainers)
	return w
}

// removeContainers deletes the Swift containers this test's backups made
// (their names start with the test's prefix), so runs leave no data.
func (w *world) removeContainers() {
	ctx := context.Background()
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{IdentityEndpoint: w.demo["OS_AUTH_URL"],
		Username: w.demo["OS_USERNAME"], Password: w.demo["OS_PASSWORD"], DomainName: "Default",
		Scope: &gophercloud.AuthScope{ProjectName: w.demo["OS_PROJECT_NAME"], DomainName: "Default"}})
	if err != nil {
		w.t.Logf("cleanup: %v", err)
		return
	}
	sc, err := openstack.NewObjectStorageV1(pc, gophercloud.EndpointOpts{Region: w.demo["OS_REGION_NAME"]})
	if err != nil {
		w.t.Logf("cleanup: %v", err)
		return
	}
	pages, err := containers.List(sc, containers.ListOpts{Prefix: w.prefix}).AllPages(ctx)
	if err != nil {
		w.t.Logf("cleanup: %v", err)
		return
	}
	names, _ := containers.ExtractNames(pages)
	for _, c := range names {
		op, err := objects.List(sc, c, objects.ListOpts{}).AllPages(ctx)
		if err == nil {
			objs, _ := objects.ExtractNames(op)
			for _, o := range objs {
				objects.Delete(ctx, sc, c, o, nil)
			}
		}
		if r := containers.Delete(ctx, sc, c); r.Err != nil {
			w.t.Logf("cleanup: deleting container %s: %v", c, r.Err)
		}
	}
}

func (w *world) clientID(node string) string { return w.api.ProjectID() + "_" + w.prefix + node }

// sched is one freezer-scheduler process.
type sched struct {
	cmd  *exec.Cmd
	log  string
	conf string
	done chan struct{}
}

// startScheduler writes a master-style scheduler.conf and starts
// `freezer-scheduler --no-daemon start` as demo.
func (w *world) startScheduler(node string, dir string) *sched {
	w.t.Helper()
	if dir == "" {
		dir = w.t.TempDir()
	}
	conf := filepath.Join(dir, "scheduler.conf")
	logf := filepath.Join(dir, "scheduler.log")
	body := fmt.Sprintf(`[DEFAULT]
debug = true
log_file = %s

[scheduler]
client_id = %s
jobs_dir = %s
interval = 2
agent_path = %s
pid_file = %s

[service_auth]
os_username = %s
os_password = %s
os_project_name = %s
os_user_domain_name = Default
os_project_domain_name = Default
os_auth_url = %s
os_backup_url = %s
os_region_name = %s
`, logf, w.clientID(node), filepath.Join(dir, "jobs"), w.agentPath(), filepath.Join(dir, "sched.pid"),
		w.demo["OS_USERNAME"], w.demo["OS_PASSWORD"], w.demo["OS_PROJECT_NAME"], w.demo["OS_AUTH_URL"], w.url, w.demo["OS_REGION_NAME"])
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		w.t.Fatal(err)
	}
	s := &sched{log: logf, conf: conf, done: make(chan struct{})}
	s.cmd = exec.Command(filepath.Join(w.bin, "freezer-scheduler"), "--config-file", conf, "--no-daemon", "start")
	s.cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	var out bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	w.t.Cleanup(func() {
		s.stop(w.t)
		if w.t.Failed() {
			b, _ := os.ReadFile(logf)
			w.t.Logf("scheduler %s output:\n%s\nlog:\n%s", node, out.String(), tail(string(b), 6000))
		}
	})
	return s
}

func (w *world) agentPath() string {
	if w.agent != "" {
		return w.agent
	}
	return filepath.Join(w.bin, "freezer-agent")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (s *sched) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Error("scheduler did not stop on SIGTERM")
	}
}

func (s *sched) logText() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// freezerCLI runs python-freezerclient as demo against our API.
func (w *world) freezerCLI(args ...string) string {
	w.t.Helper()
	cmd := exec.Command(w.env.Get(w.t, "PYTHON_FREEZER_CLI"), args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + w.t.TempDir()}
	for k, v := range w.demo {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("freezer %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var hexID = regexp.MustCompile(`[0-9a-f]{32}`)

// createJobCLI creates a job with `freezer job-create --file --client`.
func (w *world) createJobCLI(node string, actions []apiv2.Action, sched apiv2.JobSchedule) string {
	w.t.Helper()
	// The client must exist before a job can name it; the scheduler
	// registers itself, but the job may be created first.
	if _, err := w.api.RegisterClient(context.Background(), apiv2.ClientInfo{ClientID: w.clientID(node), Hostname: w.prefix + node}); err != nil {
		w.t.Fatal(err)
	}
	doc := map[string]any{"job_actions": actions, "job_schedule": sched, "description": "scheduler e2e " + w.t.Name()}
	b, _ := json.Marshal(doc)
	f := filepath.Join(w.t.TempDir(), "job.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		w.t.Fatal(err)
	}
	out := w.freezerCLI("job-create", "--file", f, "--client", w.clientID(node))
	id := hexID.FindString(out)
	if id == "" {
		w.t.Fatalf("no job id in %q", out)
	}
	return id
}

func (w *world) wait(id string, timeout time.Duration, cond func(apiv2.JobSchedule) bool) apiv2.JobSchedule {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	var last apiv2.JobSchedule
	for time.Now().Before(deadline) {
		if j, err := w.api.GetJob(context.Background(), id); err == nil {
			last = j.JobSchedule
			if cond(last) {
				return last
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.t.Fatalf("job %s: timed out after %s; last schedule %+v", id, timeout, last)
	return last
}

func isCompleted(js apiv2.JobSchedule) bool { return js.Status == apiv2.StatusCompleted }

func isRunningWithPid(js apiv2.JobSchedule) bool {
	return js.Status == apiv2.StatusRunning && js.CurrentPID != 0
}

func (w *world) backupsOf(jobID string) []apiv2.Backup {
	w.t.Helper()
	bs, err := w.api.ListBackups(context.Background(), client.ListOptions{Limit: 100,
		Search: &apiv2.Search{Match: []map[string]any{{"job_id": jobID}}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return bs
}

func swiftBackup(path, container, name string) apiv2.Action {
	return apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "backup", "mode": "fs", "storage": "swift",
		"path_to_backup": path, "container": container, "backup_name": name}}
}

// makeTree writes a small tree with nested dirs and random content.
func makeTree(t *testing.T, root string) {
	t.Helper()
	for d := 0; d < 3; d++ {
		dir := filepath.Join(root, "d"+strconv.Itoa(d), "sub")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := 0; f < 4; f++ {
			b := make([]byte, 1000+d*5000+f*300)
			rand.Read(b)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.bin", f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.WriteFile(filepath.Join(root, "top.txt"), []byte("hello freezer\n"), 0o600)
}

// treeSum maps relative paths to content hashes and modes.
func treeSum(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		h := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(h[:]) + " " + info.Mode().Perm().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIntegrationBackupAndRestoreJobs(t *testing.T) {
	w := newWorld(t)
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	container := w.prefix + "-c"
	name := w.prefix + "-b"
	s := w.startScheduler("n1", "")
	id := w.createJobCLI("n1", []apiv2.Action{swiftBackup(src, container, name)}, apiv2.JobSchedule{})
	start := time.Now() // the CLI has returned: the job exists
	js := w.wait(id, 60*time.Second, isCompleted)
	if js.Result != apiv2.ResultSuccess {
		t.Fatalf("backup job: %+v\n%s", js, tail(s.logText(), 4000))
	}
	// Picked up within one poll interval (2 s, +10 % jitter) plus
	// upstream's 2 s start delay, with a second of slack.
	if started := time.Unix(js.TimeStarted, 0); started.Sub(start) > 6*time.Second {
		t.Errorf("job started %s after creation", started.Sub(start))
	}
	show := w.freezerCLI("job-show", id)
	if !strings.Contains(show, "completed") || !strings.Contains(show, "success") {
		t.Errorf("freezer job-show:\n%s", show)
	}
	bs := w.backupsOf(id)
	if len(bs) != 1 || bs[0].BackupMetadata.String("backup_name") != name {
		t.Fatalf("backups of the job: %+v", bs)
	}
	if list := w.freezerCLI("backup-list", "--limit", "100"); !strings.Contains(list, bs[0].BackupID) || !strings.Contains(list, src) {
		t.Errorf("freezer backup-list does not show backup %s of %s:\n%s", bs[0].BackupID, src, list)
	}

	dst := filepath.Join(t.TempDir(), "restored")
	restore := apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "restore", "storage": "swift",
		"container": container, "backup_name": name, "restore_abs_path": dst}}
	rid := w.createJobCLI("n1", []apiv2.Action{restore}, apiv2.JobSchedule{})
	if js := w.wait(rid, 60*time.Second, isCompleted); js.Result != apiv2.ResultSuccess {
		t.Fatalf("restore job: %+v\n%s", js, tail(s.logText(), 4000))
	}
	a, b := treeSum(t, src), treeSum(t, dst)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("restored tree differs:\nsource   %v\nrestored %v", a, b)
	}
}

func TestIntegrationFailingJobIsRetried(t *testing.T) {
	w := newWorld(t)
	s := w.startScheduler("n1", "")
	a := swiftBackup("/nonexistent/"+w.prefix, w.prefix+"-c", w.prefix+"-b")
	two, one := 2, 1
	a.MaxRetries, a.MaxRetriesInterval = &two, &one
	id := w.createJobCLI("n1", []apiv2.Action{a}, apiv2.JobSchedule{})
	js := w.wait(id, 90*time.Second, isCompleted)
	if js.Result != apiv2.ResultFail {
		t.Errorf("result %q", js.Result)
	}
	log := s.logText()
	tries := 0
	errText := false
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "job_id="+id) {
			continue
		}
		if strings.Contains(line, `msg="agent started"`) {
			tries++
		}
		if strings.Contains(line, `msg="agent failed"`) && strings.Contains(line, "agent_error=") && strings.Contains(line, "nonexistent") {
			errText = true
		}
	}
	if tries != 3 {
		t.Errorf("max_retries 2: %d tries, want 3", tries)
	}
	if !errText {
		t.Errorf("the agent's error text is not in the scheduler log:\n%s", tail(log, 4000))
	}
	if bs := w.backupsOf(id); len(bs) != 0 {
		t.Errorf("failed job listed backups: %+v", bs)
	}
}

// bigFile writes n MiB of random data: bzip2 makes its backup slow.
func bigFile(t *testing.T, dir string, mib int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := 0; i < mib; i++ {
		rand.Read(buf)
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
}

func pidAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(b), ") Z ")
}

func TestIntegrationAbortStopsLongBackup(t *testing.T) {
	w := newWorld(t)
	src := filepath.Join(t.TempDir(), "big")
	bigFile(t, src, 200)
	w.startScheduler("n1", "")
	a := swiftBackup(src, w.prefix+"-c", w.prefix+"-b")
	a.FreezerAction["compression"] = "bzip2"
	id := w.createJobCLI("n1", []apiv2.Action{a}, apiv2.JobSchedule{})
	js := w.wait(id, 60*time.Second, isRunningWithPid)
	time.Sleep(time.Second) // let the agent get going
	pid := js.CurrentPID
	cli := time.Now()
	out := w.freezerCLI("job-abort", id)
	// The clock starts when the API has accepted the abort (the Python CLI
	// itself takes a few seconds to start and log in).
	start := time.Now()
	t.Logf("freezer job-abort (%s): %s", start.Sub(cli).Round(time.Millisecond), strings.TrimSpace(out))
	js = w.wait(id, 15*time.Second, isCompleted)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("abort took %s after the request", took)
	}
	if js.Result != apiv2.ResultAborted {
		t.Errorf("result %q", js.Result)
	}
	if pidAlive(pid) {
		t.Errorf("agent (pid %d) still running after the abort", pid)
	}
	if bs := w.backupsOf(id); len(bs) != 0 {
		t.Errorf("aborted job listed backups: %+v", bs)
	}
}

func TestIntegrationSessionOfThreeSchedulers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	at := time.Now().Add(10 * time.Second).Truncate(time.Second)
	sid, err := w.api.CreateSession(ctx, apiv2.Session{Description: "scheduler e2e session", HoldOff: 5,
		Schedule: apiv2.JobSchedule{ScheduleDate: at.Format("2006-01-02T15:04:05")}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 1; i <= 4; i++ {
		node := "n" + strconv.Itoa(i)
		if _, err := w.api.RegisterClient(ctx, apiv2.ClientInfo{ClientID: w.clientID(node), Hostname: w.prefix + node}); err != nil {
			t.Fatal(err)
		}
		// Created with our client: the Python CLI takes seconds per call
		// and the session's date must still be ahead when the nodes start.
		id, err := w.api.CreateJob(ctx, apiv2.Job{ClientID: w.clientID(node),
			JobActions: []apiv2.Action{swiftBackup(src, w.prefix+"-c"+node, w.prefix+"-b"+node)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.api.AddJobToSession(ctx, sid, id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i := 1; i <= 3; i++ {
		w.startScheduler("n"+strconv.Itoa(i), "")
	}
	var starts []int64
	for _, id := range ids[:3] {
		js := w.wait(id, 90*time.Second, isCompleted)
		if js.Result != apiv2.ResultSuccess {
			t.Errorf("member %s: %+v", id, js)
		}
		starts = append(starts, js.TimeStarted)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	if starts[2]-starts[0] > 2 {
		t.Errorf("members started at %v: want all within 2 s", starts)
	}
	// The fourth member's node comes up past the 5 s hold-off.
	sess, err := w.api.GetSession(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(time.Unix(sess.TimeStart+int64(sess.HoldOff)+2, 0)); d > 0 {
		time.Sleep(d)
	}
	w.startScheduler("n4", "")
	js := w.wait(ids[3], 60*time.Second, isCompleted)
	if js.Result != apiv2.ResultFail {
		t.Errorf("late member result %q, want fail (out-of-sync)", js.Result)
	}
	if bs := w.backupsOf(ids[3]); len(bs) != 0 {
		t.Errorf("the late member ran a backup: %+v", bs)
	}
	s, err := w.api.GetSession(ctx, sid)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != apiv2.StatusCompleted || s.ResultString() != apiv2.ResultFail {
		t.Errorf("session %s/%s: must account for the member that missed the run", s.Status, s.ResultString())
	}
}

func TestIntegrationSIGKILLRestartRunsNothingTwice(t *testing.T) {
	w := newWorld(t)
	src := filepath.Join(t.TempDir(), "big")
	bigFile(t, src, 40)
	dir := t.TempDir()
	s1 := w.startScheduler("n1", dir)
	a := swiftBackup(src, w.prefix+"-c", w.prefix+"-b")
	a.FreezerAction["compression"] = "bzip2"
	id := w.createJobCLI("n1", []apiv2.Action{a}, apiv2.JobSchedule{})
	js := w.wait(id, 60*time.Second, isRunningWithPid)
	if err := s1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s1.done
	if !pidAlive(js.CurrentPID) {
		t.Log("the agent finished before the restart; the new scheduler must still report it")
	}
	// The pid file of the killed process is stale; the new one takes over.
	s2 := w.startScheduler("n1", dir)
	js = w.wait(id, 120*time.Second, isCompleted)
	if js.Result != apiv2.ResultSuccess {
		t.Errorf("after restart: %+v\n%s", js, tail(s2.logText(), 4000))
	}
	all := s2.logText() // both processes append to the same log file
	if n := strings.Count(all, `msg="agent started"`); n != 1 {
		t.Errorf("the agent was started %d times, want 1", n)
	}
	if !strings.Contains(s2.logText(), "re-attaching") {
		t.Errorf("the new scheduler did not re-attach:\n%s", tail(s2.logText(), 3000))
	}
	if bs := w.backupsOf(id); len(bs) != 1 {
		t.Errorf("backups of the job: %d, want 1", len(bs))
	}
}

func TestIntegrationLoad500Schedulers(t *testing.T) {
	w := newWorld(t)
	rep, err := loadpoll.Run(context.Background(), w.api, loadpoll.Config{Schedulers: 500, Interval: 10 * time.Second,
		Duration: 45 * time.Second, JobsPerScheduler: 1, ClientPrefix: w.api.ProjectID() + "_" + w.prefix + "load", Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if rep.Failures != 0 {
		t.Errorf("%d polls failed: %v", rep.Failures, rep.FirstErrors)
	}
	if rep.Polls < 500*4 {
		t.Errorf("only %d polls", rep.Polls)
	}
	if rep.P99 > 50*time.Millisecond {
		t.Errorf("p99 %s, want under 50 ms", rep.P99)
	}
}
