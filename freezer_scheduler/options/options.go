package options

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"freezer.dev/freezer/internal/config"
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

// flag describes how an option is spelled on the command line.
type flag struct {
	group, name string
	long        []string // without the leading "--"
	short       string   // without the "-"
}

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
	s := config.Schema{
		{Name: "debug", Type: config.Bool, Default: "false", Help: "Log at DEBUG level instead of INFO."},
		{Name: "log_file", Help: "Log to this file instead of standard error.", Deprecated: d("logfile")},
		{Name: "log_dir", Help: "Directory for a relative log_file.", Deprecated: d("logdir")},
		{Name: "use_json", Type: config.Bool, Default: "false", Help: "Log JSON lines."},

		{Group: GroupScheduler, Name: "client_id", Help: "The client_id used when contacting the service; default <project_id>_<hostname>.", Deprecated: d("client_id", "client-id")},
		{Group: GroupScheduler, Name: "no_api", Type: config.Bool, Default: "false", Help: "Do not use the API: run only the job files of jobs_dir.", Deprecated: d("no_api", "no-api")},
		{Group: GroupScheduler, Name: "jobs_dir", Default: DefaultJobsDir, Help: "Directory of the job files (env FREEZER_SCHEDULER_CONF_D).", Deprecated: d("conf")},
		{Group: GroupScheduler, Name: "interval", Type: config.Int, Default: "60", Help: "API polling interval in seconds.", Deprecated: d("interval")},
		{Group: GroupScheduler, Name: "no_daemon", Type: config.Bool, Default: "false", Help: "Run in the foreground instead of as a daemon.", Deprecated: d("no_daemon", "no-daemon")},
		{Group: GroupScheduler, Name: "insecure", Type: config.Bool, Default: "false", Help: "Do not verify TLS certificates.", Deprecated: d("insecure")},
		{Group: GroupScheduler, Name: "disable_exec", Type: config.Bool, Default: "false", Help: "Refuse jobs that contain exec actions.", Deprecated: d("disable_exec", "disable-exec")},
		{Group: GroupScheduler, Name: "concurrent_jobs", Type: config.Int, Default: "1", Help: "How many jobs may run at the same time.", Deprecated: d("concurrent_jobs")},
		{Group: GroupScheduler, Name: "enable_v1_api", Type: config.Bool, Default: "false", Help: "Use the v1 API (not supported: v2 is always used).", Deprecated: d("enable_v1_api", "enable-v1-api")},
		{Group: GroupScheduler, Name: "centralized_scheduler", Type: config.Bool, Default: "false", Help: "Run as a central scheduler (jobs of every project, with trusts)."},
		{Group: GroupScheduler, Name: "agent_path", Help: "freezer-agent executable; default: next to freezer-scheduler, then PATH."},
		{Group: GroupScheduler, Name: "pid_file", Help: "Daemon pid file; default <tmpdir>/freezer_sched_<home dir name>.pid."},
		{Group: GroupScheduler, Name: "run_dir", Help: "Directory of the files of running actions; default <jobs_dir>/run."},
		{Group: GroupScheduler, Name: "metrics_listen", Help: "host:port to serve Prometheus metrics on (/metrics); empty disables."},
		{Group: GroupScheduler, Name: "poll_jitter", Type: config.Float, Default: "0.1", Help: "Random fraction (0-0.5) added to or taken from each polling interval."},
		{Group: GroupScheduler, Name: "misfire_grace_time", Type: config.Int, Default: "3600", Help: "Seconds a run may be late and still start."},
		{Group: GroupScheduler, Name: "session_wait", Type: config.Int, Default: "300", Help: "Seconds a session job waits for the session's hold-off to clear."},

		{Group: GroupCapabilities, Name: "supported_actions", Type: config.List, Default: "backup,restore,info,admin,exec", Help: "Actions this node runs; other jobs are ignored."},
		{Group: GroupCapabilities, Name: "supported_modes", Type: config.List, Default: "fs,mongo,mysql,sqlserver,cinder,glance,cindernative,nova", Help: "Modes this node runs."},
		{Group: GroupCapabilities, Name: "supported_storages", Type: config.List, Default: "local,swift,ssh,s3,ftp,ftps", Help: "Storages this node uses."},
		{Group: GroupCapabilities, Name: "supported_engines", Type: config.List, Default: "tar,rsync,rsyncv2,nova,osbrick,glance", Help: "Engines this node uses."},
	}
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
	return s
}

// flags lists the command-line spellings of every option: oslo's
// "--<group>-<name>" for grouped options, the dashed name, the deprecated
// [DEFAULT] spellings (--conf, --concurrent_jobs, --os-username, ...) and
// the short letters.
func flags() []flag {
	var out []flag
	for _, o := range Schema() {
		dash := strings.ReplaceAll(o.Name, "_", "-")
		f := flag{group: o.Group, name: o.Name}
		add := func(n string) {
			for _, x := range f.long {
				if x == n {
					return
				}
			}
			f.long = append(f.long, n)
		}
		add(dash)
		add(o.Name)
		if o.Group != "" {
			add(o.Group + "-" + dash)
			add(strings.ReplaceAll(o.Group, "_", "-") + "-" + dash)
		}
		for _, dn := range o.Deprecated {
			add(strings.ReplaceAll(dn.Name, "_", "-"))
			add(dn.Name)
		}
		switch o.Name {
		case "client_id":
			f.short = "c"
		case "no_api":
			f.short = "n"
		case "jobs_dir":
			f.short = "f"
		case "interval":
			f.short = "i"
		case "debug":
			f.short = "d"
		}
		out = append(out, f)
	}
	return out
}

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
	p := &Parsed{}
	type setting struct{ group, name, value string }
	var sets []setting
	byName := map[string]flag{}
	byShort := map[string]flag{}
	for _, f := range flags() {
		for _, l := range f.long {
			byName[l] = f
		}
		if f.short != "" {
			byShort[f.short] = f
		}
	}
	schema := Schema()
	isBool := map[config.Name]bool{}
	for _, o := range schema {
		isBool[config.Name{Group: o.Group, Name: o.Name}] = o.Type == config.Bool
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) && p.Action == "" {
				p.Action = args[i+1]
			}
			i = len(args)
			continue
		case a == "-h" || a == "--help":
			p.Help = true
			continue
		case a == "--version":
			p.Version = true
			continue
		case a == "--print-sample-config":
			p.PrintSample = true
			continue
		case !strings.HasPrefix(a, "-") || a == "-":
			if p.Action != "" {
				return nil, fmt.Errorf("%w: unexpected argument %q", ErrUsage, a)
			}
			p.Action = a
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%w: %s needs a value", ErrUsage, a)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "config-file", "config_file":
			v, err := next()
			if err != nil {
				return nil, err
			}
			p.ConfigFiles = append(p.ConfigFiles, v)
			continue
		case "config-dir", "config_dir":
			v, err := next()
			if err != nil {
				return nil, err
			}
			p.ConfigDirs = append(p.ConfigDirs, v)
			continue
		}
		var f flag
		var ok bool
		if strings.HasPrefix(a, "--") {
			f, ok = byName[name]
			if !ok && strings.HasPrefix(name, "no") {
				// oslo's negated booleans: --nodebug, --nono-daemon.
				if g, ok2 := byName[strings.TrimPrefix(name, "no")]; ok2 && isBool[config.Name{Group: g.group, Name: g.name}] && !hasValue {
					sets = append(sets, setting{g.group, g.name, "false"})
					continue
				}
			}
		} else {
			f, ok = byShort[name]
		}
		if !ok {
			return nil, fmt.Errorf("%w: unrecognized arguments: %s", ErrUsage, a)
		}
		if isBool[config.Name{Group: f.group, Name: f.name}] {
			v := "true"
			if hasValue {
				v = value
			}
			sets = append(sets, setting{f.group, f.name, v})
			continue
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		sets = append(sets, setting{f.group, f.name, v})
	}
	if p.Help || p.Version || p.PrintSample {
		return p, nil
	}
	if p.Action == "" {
		return nil, fmt.Errorf("%w: an action is required: %s", ErrUsage, strings.Join(Actions, "|"))
	}
	if !contains(Actions, p.Action) {
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
			if err := vals.Set(GroupServiceAuth, o.name, v); err != nil {
				return nil, fmt.Errorf("environment %s: %w", o.env, err)
			}
		}
	}
	if v := env("FREEZER_SCHEDULER_CONF_D"); v != "" && !vals.IsSet(GroupScheduler, "jobs_dir") {
		if err := vals.Set(GroupScheduler, "jobs_dir", v); err != nil {
			return nil, err
		}
	}
	for _, s := range sets {
		if err := vals.Set(s.group, s.name, s.value); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
	}
	if err := validate(vals); err != nil {
		return nil, err
	}
	p.Values = vals
	return p, nil
}

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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
	b.WriteString("usage: freezer-scheduler [options] {start,stop,restart,status,reload}\n\n")
	b.WriteString("  --config-file PATH   config file (repeatable); default: freezer.conf and scheduler.conf\n")
	b.WriteString("                       found in ~/.freezer, ~, /etc/freezer, /etc\n")
	b.WriteString("  --config-dir DIR     directory of *.conf files (repeatable)\n")
	b.WriteString("  --version            print the version and exit\n")
	b.WriteString("  --print-sample-config  print a commented scheduler.conf sample and exit\n\n")
	fl := flags()
	sort.SliceStable(fl, func(i, j int) bool { return fl[i].group < fl[j].group })
	help := map[config.Name]config.Opt{}
	for _, o := range Schema() {
		help[config.Name{Group: o.Group, Name: o.Name}] = o
	}
	for _, f := range fl {
		o := help[config.Name{Group: f.group, Name: f.name}]
		names := []string{}
		if f.short != "" {
			names = append(names, "-"+f.short)
		}
		for _, l := range f.long {
			if strings.Contains(l, "_") && l != o.Name {
				continue // keep the list short: dashed spellings only
			}
			if l == o.Name && strings.Contains(l, "_") {
				continue
			}
			names = append(names, "--"+l)
		}
		group := f.group
		if group == "" {
			group = "DEFAULT"
		}
		def := ""
		if o.Default != "" {
			def = " (default " + o.Default + ")"
		}
		fmt.Fprintf(&b, "  %s\n      [%s] %s: %s%s\n", strings.Join(names, ", "), group, o.Name, o.Help, def)
	}
	return b.String()
}
