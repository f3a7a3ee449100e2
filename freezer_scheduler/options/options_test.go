package options

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/logging"
)

func noEnv(string) string { return "" }

func envOf(m map[string]string) Env { return func(k string) string { return m[k] } }

func TestLoads130FlatSpelling(t *testing.T) {
	p, err := Parse([]string{"--config-file", "testdata/scheduler-13.0-flat.conf", "start"}, noEnv, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := p.Scheduler(p.ClientID("ignored", "host"), "host")
	if c.ClientID != "demo_node1" || c.JobsDir != "/var/lib/freezer/jobs" || c.Interval != 30*time.Second ||
		c.ConcurrentJobs != 3 || !c.DisableExec || c.NoAPI {
		t.Errorf("scheduler config from the flat file: %+v", c)
	}
	a, err := p.Auth()
	if err != nil {
		t.Fatal(err)
	}
	if a.Username != "demo" || a.Password != "demo_pw" || a.ProjectName != "demo" || a.AuthURL != "http://127.0.0.1:5000/v3" ||
		a.Endpoint != "http://127.0.0.1:9090" || a.Interface != "internalURL" || a.ProjectDomainName != "Default" || a.RegionName != "RegionOne" {
		t.Errorf("auth from the flat file: %+v", a)
	}
	if !p.Values.Bool("", "debug") || p.Values.String("", "log_file") != "/var/log/freezer/scheduler.log" {
		t.Error("logging options not read")
	}
	if !slices.Equal(c.Capabilities.Actions, []string{"backup", "restore", "info", "admin", "exec", "verify"}) {
		t.Errorf("default capabilities: %v", c.Capabilities.Actions)
	}
	env := p.AgentEnv([]string{"PATH=/bin", "OS_USERNAME=shadowed"})
	joined := strings.Join(env, "\n")
	for _, want := range []string{"PATH=/bin", "OS_USERNAME=demo", "OS_PASSWORD=demo_pw", "OS_BACKUP_URL=http://127.0.0.1:9090", "OS_INSECURE=True"} {
		if !slices.Contains(env, want) {
			t.Errorf("agent env lacks %s:\n%s", want, joined)
		}
	}
}

func TestLoadsMasterGroups(t *testing.T) {
	p, err := Parse([]string{"start", "--config-file=testdata/scheduler-master-groups.conf"}, noEnv, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := p.Scheduler(p.ClientID("x", "h"), "h")
	if c.ClientID != "p1_node2" || c.JobsDir != "/srv/freezer/conf.d" || c.Interval != 15*time.Second || c.ConcurrentJobs != 2 || c.DisableExec {
		t.Errorf("scheduler config: %+v", c)
	}
	if !p.Values.Bool(GroupScheduler, "no_daemon") {
		t.Error("no_daemon not read")
	}
	if !slices.Equal(c.Capabilities.Modes, []string{"fs", "mysql"}) || !slices.Equal(c.Capabilities.Engines, []string{"tar"}) {
		t.Errorf("capabilities: %+v", c.Capabilities)
	}
	a, _ := p.Auth()
	if a.ProjectID != "0123456789abcdef0123456789abcdef" || a.UserDomainID != "default" || a.Endpoint != "" {
		t.Errorf("auth: %+v", a)
	}
}

func TestPrecedenceCLIOverFileOverEnv(t *testing.T) {
	env := envOf(map[string]string{"OS_USERNAME": "env-user", "OS_BACKUP_URL": "http://env:9090",
		"OS_REGION_NAME": "EnvRegion", "FREEZER_SCHEDULER_CONF_D": "/env/jobs"})
	p, err := Parse([]string{"--config-file", "testdata/scheduler-master-groups.conf", "-i", "7",
		"--os-username", "cli-user", "--concurrent_jobs", "5", "--no-daemon", "status"}, env, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Auth()
	if a.Username != "cli-user" {
		t.Errorf("CLI must win: %q", a.Username)
	}
	if a.Endpoint != "http://env:9090" || a.RegionName != "EnvRegion" {
		t.Errorf("environment fallbacks not applied: %+v", a)
	}
	c := p.Scheduler("id", "h")
	if c.Interval != 7*time.Second || c.ConcurrentJobs != 5 {
		t.Errorf("CLI values: %+v", c)
	}
	if c.JobsDir != "/srv/freezer/conf.d" {
		t.Errorf("file must win over FREEZER_SCHEDULER_CONF_D: %q", c.JobsDir)
	}
	if p.Action != "status" {
		t.Errorf("action %q", p.Action)
	}

	// Without a file, the environment gives the jobs dir; the file value
	// of os_username (none here) falls back to OS_USERNAME.
	p, err = Parse([]string{"--config-dir", t.TempDir(), "start"}, env, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, _ = p.Auth()
	if p.Scheduler("", "").JobsDir != "/env/jobs" || a.Username != "env-user" {
		t.Errorf("env fallbacks: jobs %q user %q", p.Scheduler("", "").JobsDir, a.Username)
	}
}

func TestCommandLineSpellings(t *testing.T) {
	dir := t.TempDir()
	cases := [][]string{
		{"--scheduler-client-id", "a_b", "--scheduler-jobs-dir", dir, "--scheduler-interval", "9", "start"},
		{"--client-id", "a_b", "--jobs-dir", dir, "--interval=9", "start"},
		{"-c", "a_b", "-f", dir, "-i", "9", "start"},
		{"-c", "a_b", "--conf", dir, "-i", "9", "start"},
	}
	for _, args := range cases {
		p, err := Parse(append([]string{"--config-dir", t.TempDir()}, args...), noEnv, dir)
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		c := p.Scheduler(p.ClientID("", ""), "")
		if c.ClientID != "a_b" || c.JobsDir != dir || c.Interval != 9*time.Second {
			t.Errorf("%v gave %+v", args, c)
		}
	}
	p, err := Parse([]string{"--config-dir", t.TempDir(), "--no-api", "--disable-exec", "--nodebug", "--supported-actions", "backup", "start"}, noEnv, dir)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Scheduler("", "")
	if !c.NoAPI || !c.DisableExec || !slices.Equal(c.Capabilities.Actions, []string{"backup"}) {
		t.Errorf("flags: %+v", c)
	}
}

func TestBadInput(t *testing.T) {
	tmp := t.TempDir()
	bad := [][]string{
		{"--blabla", "start"},
		{"start", "stop"},
		{"explode"},
		{},
		{"-i"},
		{"-i", "soon", "start"},
		{"-i", "0", "start"},
		{"--concurrent-jobs", "0", "start"},
		{"--os-endpoint-type", "sideways", "start"},
		{"--config-file", filepath.Join(tmp, "missing.conf"), "start"},
	}
	for _, args := range bad {
		if _, err := Parse(append([]string{"--config-dir", tmp}, args...), noEnv, tmp); err == nil {
			t.Errorf("Parse(%q) succeeded", args)
		}
	}
	_, err := Parse([]string{"--config-dir", tmp, "--blabla", "start"}, noEnv, tmp)
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "unrecognized arguments") {
		t.Errorf("unknown flag error: %v", err)
	}
}

func TestDefaultsAndPaths(t *testing.T) {
	home := t.TempDir()
	p, err := Parse([]string{"--config-dir", t.TempDir(), "start"}, noEnv, home)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Scheduler(p.ClientID("proj", "node"), "node")
	if c.ClientID != "proj_node" || c.Interval != time.Minute || c.JobsDir != DefaultJobsDir || c.ConcurrentJobs != 1 ||
		c.MisfireGrace != time.Hour {
		t.Errorf("defaults: %+v", c)
	}
	if pf := p.PidFile(home); filepath.Base(pf) != "freezer_sched_"+filepath.Base(home)+".pid" {
		t.Errorf("pid file %s", pf)
	}
	if _, err := p.AgentPath("", func(string) (string, error) { return "", errors.New("not found") }); err == nil {
		t.Error("missing agent not reported")
	}
	if got, _ := p.AgentPath("", func(n string) (string, error) { return "/usr/bin/" + n, nil }); got != "/usr/bin/freezer-agent" {
		t.Errorf("agent from PATH: %s", got)
	}
	if !strings.Contains(Usage(), "--jobs-dir") || !strings.Contains(Usage(), "-c, --client-id") {
		t.Errorf("usage text:\n%s", Usage())
	}
}

func TestSampleConfig(t *testing.T) {
	p, err := Parse([]string{"--print-sample-config"}, noEnv, t.TempDir())
	if err != nil || !p.PrintSample {
		t.Fatalf("%+v %v", p, err)
	}
	var b strings.Builder
	if err := config.WriteSample(&b, Schema()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"[scheduler]", "[capabilities]", "[service_auth]", "#jobs_dir = /etc/freezer/scheduler/conf.d",
		"#supported_storages = local,swift,ssh,s3,ftp,ftps", "os_backup_url", "Deprecated name: [DEFAULT] conf"} {
		if !strings.Contains(out, want) {
			t.Errorf("sample lacks %q", want)
		}
	}
	// The sample, uncommented, loads back with the defaults.
	f, err := config.ParseINI(strings.NewReader(out), "sample")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Schema().Bind(f); err != nil {
		t.Fatal(err)
	}
}

// A scheduler.conf written for oslo.config substitutes "$option" and reads
// "$$" as "$"; OS_* values from the environment are taken as given, where
// upstream's oslo defaults substituted them too (a password with "$" in
// OS_PASSWORD failed there).
func TestSubstitutionInFilesNotInEnvironment(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "scheduler.conf")
	os.WriteFile(conf, []byte("[scheduler]\njobs_dir = $client_id/conf.d\nclient_id = node$$1\n[service_auth]\nos_password = pa$$w\n"), 0o600)
	p, err := Parse([]string{"--config-file", conf, "status"}, noEnv, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Scheduler(p.ClientID("x", "h"), "h"); c.JobsDir != "node$1/conf.d" || c.ClientID != "node$1" {
		t.Errorf("jobs_dir %q client_id %q", c.JobsDir, c.ClientID)
	}
	if a, _ := p.Auth(); a.Password != "pa$w" {
		t.Errorf("file password %q", a.Password)
	}
	os.WriteFile(conf, []byte("[scheduler]\nclient_id = n\n"), 0o600)
	p, err = Parse([]string{"--config-file", conf, "status"}, envOf(map[string]string{"OS_PASSWORD": "pa$word$$"}), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := p.Auth(); a.Password != "pa$word$$" {
		t.Errorf("environment password %q, want it as given", a.Password)
	}
}

// enable_v1_api is accepted and has no effect: --help says so, and Parse
// reports it for the scheduler's warning when it is set.
func TestNoEffectOptions(t *testing.T) {
	if !strings.Contains(Usage(), "has no effect here: the v2 API is always used") {
		t.Errorf("usage text:\n%s", Usage())
	}
	dir := t.TempDir()
	p, err := Parse([]string{"--config-dir", dir, "--enable-v1-api", "status"}, noEnv, dir)
	if err != nil {
		t.Fatal(err)
	}
	if ne := p.NoEffect(); len(ne) != 1 || ne[0].Name != "enable_v1_api" {
		t.Errorf("no effect: %+v", ne)
	}
	p, err = Parse([]string{"--config-dir", dir, "status"}, noEnv, dir)
	if err != nil {
		t.Fatal(err)
	}
	if ne := p.NoEffect(); len(ne) != 0 {
		t.Errorf("no effect by default: %+v", ne)
	}
}

// The oslo.log options of a scheduler.conf reach logging.Setup, and the
// run bound is read from [scheduler].
func TestLogAndRunTimeoutOptions(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "scheduler.conf")
	os.WriteFile(conf, []byte("[DEFAULT]\nlog_dir = /var/log/kolla/freezer\nuse_journal = true\nsyslog_log_facility = local2\nlog_date_format = %H:%M\n[scheduler]\nrun_timeout = 600\n"), 0o600)
	p, err := Parse([]string{"--config-file", conf, "start"}, noEnv, dir)
	if err != nil {
		t.Fatal(err)
	}
	o := logging.FromValues(p.Values, GroupDefault)
	if o.Path("freezer-scheduler") != "/var/log/kolla/freezer/freezer-scheduler.log" || !o.UseJournal || o.SyslogFacility != "local2" || o.DateFormat != "%H:%M" {
		t.Errorf("log options %+v", o)
	}
	if len(p.NoEffect()) != 0 {
		t.Errorf("no effect: %v", p.NoEffect())
	}
	if v := p.Values.Int(GroupScheduler, "run_timeout"); v != 600 {
		t.Errorf("run_timeout %d", v)
	}
}
