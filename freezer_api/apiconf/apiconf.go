package apiconf

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/logging"
	"freezer.dev/freezer/internal/tlsconf"
)

// DefaultConnection is the embedded database used when [database]
// connection is not set: an SQLite file in the working directory, so that
// the quick start needs no database server.
const DefaultConnection = "sqlite:///freezer-api.db"

// Schema returns every option freezer-api reads, in sample order.
func Schema() config.Schema {
	s := config.Schema{
		{Group: "DEFAULT", Name: "bind_host", Type: config.String, Default: "0.0.0.0", Help: "IP address the API server listens on."},
		{Group: "DEFAULT", Name: "bind_port", Type: config.Int, Default: "9090", Help: "TCP port the API server listens on."},
	}
	s = append(s, logging.Opts("DEFAULT", "")...)
	return append(s, config.Schema{
		{Group: "DEFAULT", Name: "shutdown_timeout", Type: config.Int, Default: "30", Help: "Seconds to let in-flight requests finish after SIGTERM."},

		{Group: "api", Name: "auth_strategy", Type: config.String, Default: "keystone", Choices: []string{"keystone", "noauth"},
			Help:       "keystone validates X-Auth-Token with Keystone; noauth trusts everybody (quick start and tests only, never in production).",
			Deprecated: []config.Name{{Group: "DEFAULT", Name: "auth_strategy"}}},
		{Group: "api", Name: "max_limit", Type: config.Int, Default: "10000", Help: "Largest page a list request may ask for with ?limit=."},
		{Group: "api", Name: "job_cache_size", Type: config.Int, Default: "32",
			Help: "MiB of recent job reads (list, get, the schedulers' poll) kept in memory. An entry is reused only while its project's job generation in the database is unchanged, which every write of the project's jobs, actions or sessions through any freezer-api instance bumps, and for at most a minute (the bound on what SQL run by hand can leave stale). 0 disables."},

		{Group: "noauth", Name: "project_id", Type: config.String, Default: "noauth-project", Help: "Project of every caller in noauth mode."},
		{Group: "noauth", Name: "user_id", Type: config.String, Default: "noauth-user", Help: "User of every caller in noauth mode."},
		{Group: "noauth", Name: "roles", Type: config.List, Default: "member,reader", Help: "Roles of every caller in noauth mode."},
		{Group: "noauth", Name: "trust_headers", Type: config.Bool, Default: "false",
			Help: "In noauth mode, take the caller's project, user and roles from the X-Project-Id, X-User-Id and X-Roles headers."},

		{Group: "storage", Name: "backend", Type: config.String, Default: "sqlalchemy", Help: "Storage backend (deprecated upstream).",
			NoEffect: "only the SQL backend exists here"},
		{Group: "storage", Name: "driver", Type: config.String, Default: "sqlalchemy", Choices: []string{"sqlalchemy", "freezer_api.storage.sqlachemy.SQLAlchemyDriver"},
			Help: "Storage driver (deprecated upstream).", NoEffect: "only the SQL backend exists here (Elasticsearch is not supported)"},

		{Group: "database", Name: "connection", Type: config.String, Default: DefaultConnection, Secret: true,
			Help:       "SQLAlchemy URL of the database: mysql+pymysql://user:password@host/freezer?charset=utf8, sqlite:///relative.db or sqlite:////absolute.db.",
			Deprecated: []config.Name{{Group: "DEFAULT", Name: "sql_connection"}, {Group: "DATABASE", Name: "sql_connection"}, {Group: "sql", Name: "connection"}}},
		{Group: "database", Name: "max_pool_size", Type: config.Int, Default: "5", Help: "Connections of the pool (MySQL); with max_overflow, the most the API opens."},
		{Group: "database", Name: "max_overflow", Type: config.Int, Default: "50", Help: "Connections allowed beyond max_pool_size (MySQL); idle ones close after 5 minutes."},
		{Group: "database", Name: "connection_recycle_time", Type: config.Int, Default: "3600", Help: "Seconds after which a connection is replaced."},
		{Group: "database", Name: "max_retries", Type: config.Int, Default: "10", Help: "Attempts to connect at start-up (-1: forever)."},
		{Group: "database", Name: "retry_interval", Type: config.Int, Default: "10", Help: "Seconds between connection attempts at start-up."},

		{Group: "keystone_authtoken", Name: "www_authenticate_uri", Type: config.String, Help: "Public Keystone URL announced to clients on 401.",
			Deprecated: []config.Name{{Group: "keystone_authtoken", Name: "auth_uri"}}},
		{Group: "keystone_authtoken", Name: "auth_url", Type: config.String, Help: "Keystone URL used to validate tokens (falls back to www_authenticate_uri)."},
		{Group: "keystone_authtoken", Name: "auth_type", Type: config.String, Default: "password", Choices: []string{"password", "v3password"}, Help: "Authentication plugin of the service user."},
		{Group: "keystone_authtoken", Name: "username", Type: config.String, Help: "Service user that validates tokens."},
		{Group: "keystone_authtoken", Name: "password", Type: config.String, Secret: true, Help: "Service user's password."},
		{Group: "keystone_authtoken", Name: "project_name", Type: config.String, Default: "service", Help: "Service user's project."},
		{Group: "keystone_authtoken", Name: "user_domain_name", Type: config.String, Default: "Default", Help: "Service user's domain."},
		{Group: "keystone_authtoken", Name: "project_domain_name", Type: config.String, Default: "Default", Help: "Service project's domain."},
		{Group: "keystone_authtoken", Name: "user_domain_id", Type: config.String, Help: "Service user's domain by id; wins over user_domain_name."},
		{Group: "keystone_authtoken", Name: "project_domain_id", Type: config.String, Help: "Service project's domain by id; wins over project_domain_name."},
		{Group: "keystone_authtoken", Name: "region_name", Type: config.String, Help: "Region of the identity endpoint."},
		{Group: "keystone_authtoken", Name: "cafile", Type: config.String, Help: "PEM CA bundle to verify Keystone's certificate (default: the system's CAs)."},
		{Group: "keystone_authtoken", Name: "certfile", Type: config.String, Help: "PEM client certificate for Keystone, if it requires one."},
		{Group: "keystone_authtoken", Name: "keyfile", Type: config.String, Help: "Key of certfile (default: certfile)."},
		{Group: "keystone_authtoken", Name: "insecure", Type: config.Bool, Default: "false", Help: "Do not verify Keystone's certificate (never in production)."},
		{Group: "keystone_authtoken", Name: "token_cache_time", Type: config.Int, Default: "300", Help: "Seconds a validated token is trusted before asking Keystone again (never past its expiry)."},

		{Group: "centralized_scheduler", Name: "enabled", Type: config.Bool, Default: "true",
			Help: "Create a Keystone trust from the job's owner to the service user when a job is created for a central client."},
		{Group: "centralized_scheduler", Name: "enforce_trusts", Type: config.Bool, Default: "false", Help: "Create the trust for every job, not only for central clients."},
		{Group: "centralized_scheduler", Name: "trusts_delegated_roles", Type: config.List, Default: "member",
			Help: "Roles the trust delegates; empty delegates the caller's roles."},

		{Group: "oslo_policy", Name: "policy_file", Type: config.String, Default: "policy.yaml", Help: "Policy overrides (YAML or JSON); relative paths are looked up next to the config files and in /etc/freezer."},

		{Group: "oslo_middleware", Name: "max_request_body_size", Type: config.Int, Default: "1048576", Help: "Largest request body in bytes (413 above it)."},

		{Group: "healthcheck", Name: "disable_by_file_path", Type: config.String, Default: "/etc/freezer/healthcheck_disable", Help: "While this file exists /healthcheck answers 503."},
	}...)
}

// Settings is the resolved configuration.
type Settings struct {
	BindHost string
	BindPort int
	// Log is the oslo.log options, for logging.Setup.
	Log             logging.Oslo
	ShutdownTimeout time.Duration

	AuthStrategy string
	MaxLimit     int
	JobCacheMiB  int
	NoAuth       NoAuth

	Connection      logging.Secret
	MaxPoolSize     int
	MaxOverflow     int
	RecycleTime     time.Duration
	ConnectRetries  int
	RetryInterval   time.Duration
	Keystone        Keystone
	PolicyFile      string
	Trusts          Trusts
	MaxBodyBytes    int64
	HealthcheckFile string

	// ConfigFiles are the files actually read, for the start-up log.
	ConfigFiles []string
	// NoEffect are the options set that do nothing here, to warn about.
	NoEffect []config.Opt
}

// NoAuth is the [noauth] section.
type NoAuth struct {
	ProjectID, UserID string
	Roles             []string
	TrustHeaders      bool
}

// Trusts is the [centralized_scheduler] section.
type Trusts struct {
	Enabled, Enforce bool
	Roles            []string
}

// Keystone is the [keystone_authtoken] subset used.
type Keystone struct {
	WWWAuthenticateURI, AuthURL, Username string
	Password                              logging.Secret
	ProjectName, UserDomainName           string
	ProjectDomainName, RegionName         string
	UserDomainID, ProjectDomainID         string
	CacheTime                             time.Duration
	// TLS is cafile, certfile, keyfile and insecure.
	TLS tlsconf.Options
}

// Args is what the command line says about configuration.
type Args struct {
	ConfigFiles []string
	ConfigDirs  []string
	// Overrides are the options the command line sets (--bind-port),
	// applied over the files; nil sets none.
	Overrides *config.Args
}

// Sections of --help.
const (
	sectionFiles   = "Configuration files"
	sectionProgram = "Program"
)

// commandLine is Schema plus the options that exist on the command line
// only: the config files and the program's own flags.
func commandLine(program ...config.Opt) config.Schema {
	s := append(Schema(),
		config.Opt{Name: "config_file", Type: config.MultiString, CLIOnly: true, Section: sectionFiles, Metavar: "FILE",
			Help: "Config file to read (repeatable). Default: the first freezer.conf and the first freezer-api.conf found in ~/.freezer, ~, /etc/freezer and /etc."},
		config.Opt{Name: "config_dir", Type: config.MultiString, CLIOnly: true, Section: sectionFiles, Metavar: "DIR",
			Help: "Directory of *.conf files read after the config files, in sorted order (repeatable)."})
	return append(s, program...)
}

// APICommandLine is freezer-api's command line: every option of Schema
// (as --name or --group-name), the config files, --help, --version,
// --print-sample-config and --print-policy.
func APICommandLine() config.Schema {
	return commandLine(append(config.ProgramOpts(sectionProgram, "a commented freezer-api.conf sample"),
		config.Opt{Name: "print_policy", Type: config.Bool, CLIOnly: true, Section: sectionProgram,
			Help: "Print the default policy rules as a commented policy.yaml and exit."})...)
}

// ManageCommandLine is freezer-manage's command line: every option of
// Schema, the config files, --help and --version.
func ManageCommandLine() config.Schema {
	return commandLine(config.HelpOpt(sectionProgram), config.VersionOpt(sectionProgram))
}

// APIHelp is freezer-api's --help text around its options.
var APIHelp = config.Help{
	Usage: "freezer-api [options]\n       freezer-api --print-sample-config | --print-policy",
	Description: `freezer-api serves the Freezer v2 REST API. Every option of freezer-api.conf
can also be given on the command line, as --name or --group-name (the
command line wins over the files). A boolean's value is true/false,
yes/no, on/off or 1/0, in any case; --noNAME turns one off.`,
	Sections: []string{sectionFiles, "Options"},
	Epilog:   "Exit status: 0 stopped cleanly, 1 failure while serving, 2 usage or configuration error.",
}

// ManageHelp is freezer-manage's --help text around its options.
var ManageHelp = config.Help{
	Usage: "freezer-manage [options] db COMMAND",
	Description: `freezer-manage administers freezer-api's database, found with the
configuration of freezer-api (the same files and options).

commands:
  sync, update   create or upgrade the schema to this version's latest
  version        print the schema version of the database and the latest known
  show           print the database's tables as a JSON list
  remove         drop every freezer-api table (all data is lost)
  import-upstream URL
                 copy the clients, actions, jobs, sessions and backups of the
                 Python freezer-api database at URL (an SQLAlchemy URL) into
                 this one, keeping ids; rows already here are kept`,
	Sections: []string{sectionFiles, "Options"},
	Epilog:   "Exit status: 0 success, 1 the command failed, 2 usage or configuration error.",
}

// ParseArgs reads a command line of cl (APICommandLine or
// ManageCommandLine). Options may come anywhere, after sub-commands too,
// as oslo accepts them; the other arguments are returned in order. Values
// are type-checked here, so that a bad --bind-port is a usage error.
func ParseArgs(cl config.Schema, args []string) (Args, []string, error) {
	parsed, err := cl.ParseArgs(args)
	if err != nil {
		return Args{}, nil, err
	}
	check, err := cl.Bind(nil)
	if err == nil {
		err = check.Apply(parsed, "command line")
	}
	if err != nil {
		return Args{}, nil, err
	}
	a := Args{ConfigFiles: parsed.All("", "config_file"), ConfigDirs: parsed.All("", "config_dir"), Overrides: parsed}
	return a, parsed.Positional, nil
}

// defaultConfigFiles lists the files oslo.config finds for upstream's
// freezer-api (find_config_files("freezer", "freezer-api")) when no
// --config-file is given: the first freezer.conf and the first
// freezer-api.conf in ~/.freezer, ~, /etc/freezer and /etc.
func defaultConfigFiles() []string {
	home, _ := os.UserHomeDir()
	return config.FindConfigFiles("freezer", "freezer-api", home)
}

// Load reads the configuration the command line names (or the default
// locations) and resolves it.
func Load(a Args) (Settings, error) {
	files := a.ConfigFiles
	if len(files) == 0 {
		// As oslo: --config-dir does not replace the default files.
		files = defaultConfigFiles()
	}
	ini, err := config.LoadFiles(files, a.ConfigDirs)
	if err != nil {
		return Settings{}, err
	}
	sch := commandLine()
	v, err := sch.Bind(ini)
	if err != nil {
		return Settings{}, err
	}
	if a.Overrides != nil {
		if err := v.Apply(a.Overrides, "command line"); err != nil {
			return Settings{}, err
		}
	}
	s := Settings{
		BindHost:        v.String("DEFAULT", "bind_host"),
		BindPort:        v.Int("DEFAULT", "bind_port"),
		Log:             logging.FromValues(v, "DEFAULT"),
		ShutdownTimeout: time.Duration(v.Int("DEFAULT", "shutdown_timeout")) * time.Second,
		AuthStrategy:    v.String("api", "auth_strategy"),
		MaxLimit:        v.Int("api", "max_limit"),
		JobCacheMiB:     v.Int("api", "job_cache_size"),
		NoAuth: NoAuth{ProjectID: v.String("noauth", "project_id"), UserID: v.String("noauth", "user_id"),
			Roles: v.List("noauth", "roles"), TrustHeaders: v.Bool("noauth", "trust_headers")},
		Connection:     logging.Secret(v.String("database", "connection")),
		MaxPoolSize:    v.Int("database", "max_pool_size"),
		MaxOverflow:    v.Int("database", "max_overflow"),
		RecycleTime:    time.Duration(v.Int("database", "connection_recycle_time")) * time.Second,
		ConnectRetries: v.Int("database", "max_retries"),
		RetryInterval:  time.Duration(v.Int("database", "retry_interval")) * time.Second,
		Keystone: Keystone{
			WWWAuthenticateURI: v.String("keystone_authtoken", "www_authenticate_uri"),
			AuthURL:            v.String("keystone_authtoken", "auth_url"),
			Username:           v.String("keystone_authtoken", "username"),
			Password:           logging.Secret(v.String("keystone_authtoken", "password")),
			ProjectName:        v.String("keystone_authtoken", "project_name"),
			UserDomainName:     v.String("keystone_authtoken", "user_domain_name"),
			ProjectDomainName:  v.String("keystone_authtoken", "project_domain_name"),
			UserDomainID:       v.String("keystone_authtoken", "user_domain_id"),
			ProjectDomainID:    v.String("keystone_authtoken", "project_domain_id"),
			RegionName:         v.String("keystone_authtoken", "region_name"),
			CacheTime:          time.Duration(v.Int("keystone_authtoken", "token_cache_time")) * time.Second,
			TLS: tlsconf.Options{CAFile: v.String("keystone_authtoken", "cafile"), CertFile: v.String("keystone_authtoken", "certfile"),
				KeyFile: v.String("keystone_authtoken", "keyfile"), Insecure: v.Bool("keystone_authtoken", "insecure")},
		},
		Trusts: Trusts{Enabled: v.Bool("centralized_scheduler", "enabled"), Enforce: v.Bool("centralized_scheduler", "enforce_trusts"),
			Roles: v.List("centralized_scheduler", "trusts_delegated_roles")},
		MaxBodyBytes:    int64(v.Int("oslo_middleware", "max_request_body_size")),
		HealthcheckFile: v.String("healthcheck", "disable_by_file_path"),
		ConfigFiles:     files,
		NoEffect:        v.NoEffect(sch),
	}
	if s.Keystone.AuthURL == "" {
		s.Keystone.AuthURL = s.Keystone.WWWAuthenticateURI
	}
	if s.Keystone.WWWAuthenticateURI == "" {
		s.Keystone.WWWAuthenticateURI = s.Keystone.AuthURL
	}
	s.PolicyFile = findPolicy(v.String("oslo_policy", "policy_file"), files, a.ConfigDirs)
	if s.BindPort < 0 || s.BindPort > 65535 {
		return s, fmt.Errorf("option [DEFAULT] bind_port: %d is not a TCP port", s.BindPort)
	}
	if s.MaxLimit <= 0 {
		return s, fmt.Errorf("option [api] max_limit must be positive")
	}
	if s.JobCacheMiB < 0 {
		return s, fmt.Errorf("option [api] job_cache_size must not be negative")
	}
	if s.MaxBodyBytes <= 0 {
		return s, fmt.Errorf("option [oslo_middleware] max_request_body_size must be positive")
	}
	return s, nil
}

// findPolicy resolves a relative policy file name like oslo.policy: next to
// the config files, in the config dirs, then /etc/freezer. The first
// existing candidate wins; if none exists the name is returned as is (the
// defaults then apply).
func findPolicy(name string, files, dirs []string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	var cands []string
	for _, f := range files {
		cands = append(cands, filepath.Join(filepath.Dir(f), name))
	}
	for _, d := range dirs {
		cands = append(cands, filepath.Join(d, name))
	}
	cands = append(cands, filepath.Join("/etc/freezer", name))
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return name
}
