package options

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/logging"
)

// Groups of the scheduler's options.
const (
	GroupDefault      = ""
	GroupScheduler    = "scheduler"
	GroupCapabilities = "capabilities"
	GroupServiceAuth  = "service_auth"
)

// Actions are the positional commands.
var Actions = []string{"start", "stop", "restart", "status", "reload"}

// DefaultJobsDir is upstream's jobs directory.
const DefaultJobsDir = "/etc/freezer/scheduler/conf.d"

// Env reads an environment variable.
type Env func(string) string

// osAuth maps the [service_auth] options to their environment variables.
var osAuth = []struct{ name, env, help string }{
	{"os_username", "OS_USERNAME", "Name used for authentication with the OpenStack Identity service."},
	{"os_password", "OS_PASSWORD", "Password used for authentication with the OpenStack Identity service."},
	{"os_project_id", "OS_PROJECT_ID", "Project id to scope to."},
	{"os_project_name", "OS_PROJECT_NAME", "Project name to scope to."},
	{"os_project_domain_id", "OS_PROJECT_DOMAIN_ID", "Domain ID containing project."},
	{"os_project_domain_name", "OS_PROJECT_DOMAIN_NAME", "Domain name containing project."},
	{"os_user_domain_id", "OS_USER_DOMAIN_ID", "User's domain id."},
	{"os_user_domain_name", "OS_USER_DOMAIN_NAME", "User's domain name."},
	{"os_auth_url", "OS_AUTH_URL", "Identity endpoint to use for authentication."},
	{"os_backup_url", "OS_BACKUP_URL", "Freezer backup service endpoint to use (default: from the Keystone catalog)."},
	{"os_region_name", "OS_REGION_NAME", "Region to use."},
	{"os_token", "OS_TOKEN", "Existing token to use instead of authenticating with a password."},
	{"os_endpoint_type", "OS_ENDPOINT_TYPE", "Endpoint type to select."},
	{"os_cert", "OS_CERT", "Client certificate file for TLS."},
	{"os_cacert", "OS_CACERT", "CA bundle file to verify TLS server certificates."},
}

// Schema returns the scheduler's option schema. The [scheduler] and
// [service_auth] options also read their 13.0 [DEFAULT] spellings.
func Schema() config.Schema {
	d := func(names ...string) []config.Name {
		var out []config.Name
		for _, n := range names {
			out = append(out, config.Name{Group: "DEFAULT", Name: n})
		}
		return out
	}
	s := append(logging.Opts(GroupDefault, ""), config.Schema{
		{Group: GroupScheduler, Name: "client_id", Short: "c", Help: "The client_id used when contacting the service; default <project_id>_<hostname>.", Deprecated: d("client_id", "client-id")},
		{Group: GroupScheduler, Name: "no_api", Short: "n", Type: config.Bool, Default: "false", Help: "Do not use the API: run only the job files of jobs_dir.", Deprecated: d("no_api", "no-api")},
		{Group: GroupScheduler, Name: "jobs_dir", Short: "f", Default: DefaultJobsDir, Help: "Directory of the job files (env FREEZER_SCHEDULER_CONF_D).", Deprecated: d("conf")},
		{Group: GroupScheduler, Name: "interval", Short: "i", Type: config.Int, Default: "60", Help: "API polling interval in seconds.", Deprecated: d("interval")},
		{Group: GroupScheduler, Name: "no_daemon", Type: config.Bool, Default: "false", Help: "Run in the foreground instead of as a daemon.", Deprecated: d("no_daemon", "no-daemon")},
		{Group: GroupScheduler, Name: "insecure", Type: config.Bool, Default: "false", Help: "Do not verify TLS certificates.", Deprecated: d("insecure")},
		{Group: GroupScheduler, Name: "disable_exec", Type: config.Bool, Default: "false", Help: "Refuse jobs that contain exec actions.", Deprecated: d("disable_exec", "disable-exec")},
		{Group: GroupScheduler, Name: "concurrent_jobs", Type: config.Int, Default: "1", Help: "How many jobs may run at the same time.", Deprecated: d("concurrent_jobs")},
		{Group: GroupScheduler, Name: "enable_v1_api", Type: config.Bool, Default: "false", Help: "Use the v1 API.", NoEffect: "the v2 API is always used", Deprecated: d("enable_v1_api", "enable-v1-api")},
		{Group: GroupScheduler, Name: "centralized_scheduler", Type: config.Bool, Default: "false", Help: "Run as a central scheduler (jobs of every project, with trusts)."},
		{Group: GroupScheduler, Name: "agent_path", Help: "freezer-agent executable; default: freezer-agent (freezer-agent.exe on Windows) next to freezer-scheduler, then on PATH."},
		{Group: GroupScheduler, Name: "pid_file", Help: "Daemon pid file; default <tmpdir>/freezer_sched_<home dir name>.pid."},
		{Group: GroupScheduler, Name: "run_dir", Help: "Directory of the files of running actions; default <jobs_dir>/run."},
		{Group: GroupScheduler, Name: "metrics_listen", Help: "host:port to serve Prometheus metrics on (/metrics); empty disables."},
		{Group: GroupScheduler, Name: "poll_jitter", Type: config.Float, Default: "0.1", Help: "Random fraction (0-0.5) added to or taken from each polling interval."},
		{Group: GroupScheduler, Name: "misfire_grace_time", Type: config.Int, Default: "3600", Help: "Seconds a run may be late and still start."},
		{Group: GroupScheduler, Name: "run_timeout", Type: config.Int, Default: "86400",
			Help: "Seconds one agent run (one action of a job) may take; then it is stopped (SIGTERM, then SIGKILL) and the action fails, and is retried if the job says so. 0: no bound (upstream's scheduler has none)."},
		{Group: GroupScheduler, Name: "session_wait", Type: config.Int, Default: "300", Help: "Seconds a session job waits for the session's hold-off to clear."},

		{Group: GroupCapabilities, Name: "supported_actions", Type: config.List, Default: "backup,restore,info,admin,exec,verify", Help: "Actions this node runs; other jobs are ignored."},
		{Group: GroupCapabilities, Name: "supported_modes", Type: config.List, Default: "fs,mongo,mysql,sqlserver,cinder,glance,cindernative,nova", Help: "Modes this node runs."},
		{Group: GroupCapabilities, Name: "supported_storages", Type: config.List, Default: "local,swift,ssh,s3,ftp,ftps", Help: "Storages this node uses."},
		{Group: GroupCapabilities, Name: "supported_engines", Type: config.List, Default: "tar,rsync,rsyncv2,nova,osbrick,glance", Help: "Engines this node uses."},
	}...)
	for _, o := range osAuth {
		opt := config.Opt{Group: GroupServiceAuth, Name: o.name, Help: o.help + " Defaults to env[" + o.env + "].",
			Secret: o.name == "os_password" || o.name == "os_token", Deprecated: d(o.name, strings.ReplaceAll(o.name, "_", "-"))}
		if o.name == "os_endpoint_type" {
			// Upstream's default is env[OS_ENDPOINT_TYPE] or "public";
			// the environment still wins over this default below.
			opt.Default = "public"
			opt.Choices = []string{"public", "publicURL", "internal", "internalURL", "admin", "adminURL"}
		}
		s = append(s, opt)
	}
	s = append(s,
		config.Opt{Name: "config_file", Type: config.MultiString, CLIOnly: true, Section: sectionProgram, Metavar: "PATH",
			Help: "Config file to read (repeatable). Default: the first freezer.conf and the first scheduler.conf found in ~/.freezer, ~, /etc/freezer and /etc."},
		config.Opt{Name: "config_dir", Type: config.MultiString, CLIOnly: true, Section: sectionProgram, Metavar: "DIR",
			Help: "Directory of *.conf files read after the config files, in sorted order (repeatable)."})
	return append(s, config.ProgramOpts(sectionProgram, "a commented scheduler.conf sample")...)
}

const sectionProgram = "Program"

// Parsed is the outcome of Parse.
type Parsed struct {
	Action      string
	ConfigFiles []string
	ConfigDirs  []string
	Values      *config.Values
	Help        bool
	Version     bool
	// PrintSample asks for the commented sample configuration.
	PrintSample bool
	// Files are the config files actually read.
	Files []string
}

// ErrUsage marks command-line errors (exit status 2 or 65 like oslo).
var ErrUsage = errors.New("usage error")

// Parse reads the command line, then the config files (the --config-file
// ones, else upstream's default search under home and /etc), and resolves
// every option: command line > config file > OS_* environment > default.
func Parse(args []string, env Env, home string) (*Parsed, error) {
	schema := Schema()
	a, err := schema.ParseArgs(args)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	p := &Parsed{
		Help: a.Bool("", "help"), Version: a.Bool("", "version"), PrintSample: a.Bool("", "print_sample_config"),
		ConfigFiles: a.All("", "config_file"), ConfigDirs: a.All("", "config_dir"),
	}
	if len(a.Positional) > 1 {
		return nil, fmt.Errorf("%w: unexpected argument %q", ErrUsage, a.Positional[1])
	}
	if len(a.Positional) == 1 {
		p.Action = a.Positional[0]
	}
	if p.Help || p.Version || p.PrintSample {
		return p, nil
	}
	if p.Action == "" {
		return nil, fmt.Errorf("%w: an action is required: %s", ErrUsage, strings.Join(Actions, "|"))
	}
	if !slices.Contains(Actions, p.Action) {
		return nil, fmt.Errorf("%w: invalid action %q (choose from %s)", ErrUsage, p.Action, strings.Join(Actions, ", "))
	}
	files := p.ConfigFiles
	if len(files) == 0 && len(p.ConfigDirs) == 0 {
		files = DefaultConfigFiles(home)
	}
	ini, err := config.LoadFiles(files, p.ConfigDirs)
	if err != nil {
		return nil, err
	}
	p.Files = files
	vals, err := schema.Bind(ini)
	if err != nil {
		return nil, fmt.Errorf("loading configuration: %w", err)
	}
	// Environment fallbacks: upstream makes OS_* the defaults of the
	// [service_auth] options, so a file value still wins.
	for _, o := range osAuth {
		if v := env(o.env); v != "" && !vals.IsSet(GroupServiceAuth, o.name) {
			if err := vals.SetFrom(GroupServiceAuth, o.name, v, "environment"); err != nil {
				return nil, fmt.Errorf("environment %s: %w", o.env, err)
			}
		}
	}
	if v := env("FREEZER_SCHEDULER_CONF_D"); v != "" && !vals.IsSet(GroupScheduler, "jobs_dir") {
		if err := vals.SetFrom(GroupScheduler, "jobs_dir", v, "environment"); err != nil {
			return nil, err
		}
	}
	if err := vals.Apply(a, "command line"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if err := validate(vals); err != nil {
		return nil, err
	}
	p.Values = vals
	return p, nil
}

// NoEffect lists the options that were set but do nothing here; the
// scheduler warns about each.
func (p *Parsed) NoEffect() []config.Opt { return p.Values.NoEffect(Schema()) }

func validate(v *config.Values) error {
	if n := v.Int(GroupScheduler, "interval"); n <= 0 {
		return fmt.Errorf("interval must be a positive number of seconds, got %d", n)
	}
	if n := v.Int(GroupScheduler, "concurrent_jobs"); n <= 0 {
		return fmt.Errorf("concurrent_jobs must be at least 1, got %d", n)
	}
	if j := v.Float(GroupScheduler, "poll_jitter"); j < 0 || j > 0.5 {
		return fmt.Errorf("poll_jitter must be between 0 and 0.5, got %g", j)
	}
	if v.String(GroupScheduler, "jobs_dir") == "" {
		return errors.New("jobs_dir must not be empty")
	}
	return nil
}

// DefaultConfigFiles is oslo's find_config_files("freezer", "scheduler",
// ".conf"): the first freezer.conf and the first scheduler.conf found in
// ~/.freezer, ~, /etc/freezer and /etc.
func DefaultConfigFiles(home string) []string {
	var dirs []string
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".freezer"), home)
	}
	dirs = append(dirs, "/etc/freezer", "/etc")
	var out []string
	for _, base := range []string{"freezer.conf", "scheduler.conf"} {
		for _, d := range dirs {
			p := filepath.Join(d, base)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Usage is the --help text.
func Usage() string {
	var b strings.Builder
	config.WriteHelp(&b, config.Help{
		Usage: "freezer-scheduler [options] {start,stop,restart,status,reload}",
		Description: `freezer-scheduler runs freezer jobs on this node: it registers the node
with freezer-api, polls its jobs and runs their actions through
freezer-agent on schedule. start runs it as a daemon (in the foreground
with --no-daemon), stop, restart and status act on the running daemon,
reload makes it read its configuration again.

Every option can be given on the command line or in a config file, under
its [group]; the command line wins, then the files, then the OS_*
environment for [service_auth], then the default. A boolean's value is
true/false, yes/no, on/off or 1/0, in any case; --noNAME turns one off.`,
		Sections: []string{"Options", "[scheduler] options", "[capabilities] options", "[service_auth] options", sectionProgram},
		Epilog: `Exit status: 0 success, 1 failure, 2 usage error, 3 not running (status,
stop, reload), 65 bad configuration.`,
	}, Schema())
	return b.String()
}
