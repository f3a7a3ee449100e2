package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer/agent"
	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/version"
)

// Exit statuses, documented in --help.
const (
	ExitOK        = 0
	ExitFailure   = 1 // any other failure (storage, engine, I/O)
	ExitUsage     = 2 // bad options or config: fix the command
	ExitNotFound  = 3 // no such source path, or no backup matches
	ExitIntegrity = 4 // corrupt, truncated or tampered data, wrong passphrase, checksum mismatch
)

// memoryHeadroom is the memory budget beyond the storages' upload buffers:
// the pipeline's queues, the codecs' state and the engine. Without a limit
// the Go collector lets garbage grow to the size of the live heap, which
// with 160 MiB of Swift segment buffers put the agent 20 MiB over its
// stated bound of buffers + 64 MiB; with it the peak RSS stays under the
// bound at no measured cost in speed (make bench).
const memoryHeadroom = 48 << 20

// StorageSpec describes one storage to open: the top-level --storage and
// --container, or one [storage:NAME] section of a job INI.
type StorageSpec struct {
	Type      string // local, swift, s3, ssh, ftp, ftps
	Container string
	// Options holds the storage options (upstream's names) by their
	// underscore names, as strings: max_segment_size, ssh_host, ...
	Options map[string]string
	// Getenv reads the environment (OS_* for Swift, ACCESS_KEY... for S3).
	Getenv func(string) string
	// JobLimits holds the job-wide upload_limit and download_limit when
	// this spec is one of several [storage:NAME] sections: they bound the
	// combined stream once, while a limit inside a section (in Options)
	// bounds that storage alone.
	JobLimits map[string]string
	// ReadOnly opens the storage without creating its root (directory,
	// container, bucket): every action but backup only reads and deletes.
	ReadOnly bool
}

// Deps are the implementations the command line wires into the agent.
type Deps struct {
	// OpenStorage opens the storages; more than one means "write to each".
	OpenStorage func(ctx context.Context, specs []StorageSpec) (backup.Storage, error)
	// NewEngine returns the named engine.
	NewEngine func(name string) (backup.Engine, error)
	Codecs    agent.Codecs
}

// Env is everything a run reads from its process.
type Env struct {
	// SetMemoryLimit, when set, receives the run's memory budget in bytes
	// once its storages are open; the program hands it to the Go runtime
	// as a soft limit. nil (tests) sets nothing.
	SetMemoryLimit   func(bytes int64)
	Args             []string // without the program name
	Getenv           func(string) string
	Stdout, Stderr   io.Writer
	StderrIsTerminal bool
	Now              func() time.Time // nil = time.Now
	Deps             Deps
	// Log, when set, receives the log instead of --log-file (tests, or a
	// scheduler running the agent in-process).
	Log *logrus.Logger
	// DefaultConfigFiles and DefaultConfigDirs are read when --config-file
	// (resp. --config-dir) is not given: the program passes oslo's
	// find_config_files("freezer", "freezer-agent") and find_config_dirs,
	// which upstream's agent reads (/etc/freezer/freezer.conf, ...). nil
	// reads none.
	DefaultConfigFiles, DefaultConfigDirs []string
}

// Run runs freezer-agent with env and returns its exit status.
func Run(ctx context.Context, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	sch := schema()
	if len(env.Args) == 0 {
		// As upstream: no arguments at all prints the help, and fails.
		writeHelp(env.Stderr, sch)
		return ExitUsage
	}
	cl, err := parseArgs(env.Args, sch)
	if err != nil {
		fmt.Fprintf(env.Stderr, "usage: freezer-agent [options]\nfreezer-agent: error: %v\n(see freezer-agent --help)\n", err)
		return ExitUsage
	}
	switch {
	case cl.args.Bool("", "help"):
		writeHelp(env.Stdout, sch)
		return ExitOK
	case cl.args.Bool("", "version"):
		fmt.Fprintln(env.Stdout, version.String())
		return ExitOK
	case cl.args.Bool("", "print_capabilities"):
		return printCapabilities(env.Stdout, sch) // modes.go
	case cl.args.Bool("", "print_sample_config"):
		if err := writeSample(env.Stdout, sch); err != nil {
			fmt.Fprintf(env.Stderr, "Critical Error: %v\n", err)
			return ExitFailure
		}
		return ExitOK
	}
	cl.defaultFiles, cl.defaultDirs = env.DefaultConfigFiles, env.DefaultConfigDirs
	s, err := resolve(cl, sch, env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Critical Error: %v\n", err)
		return ExitUsage
	}
	quiet := s.bool("quiet")
	logger, closeLog, err := setupLog(s, env)
	if err != nil {
		if !quiet {
			fmt.Fprintf(env.Stderr, "Critical Error: %v\n", err)
		}
		return ExitUsage
	}
	defer closeLog()
	log := logrus.NewEntry(logger).WithField("component", "freezer-agent")
	for _, k := range s.unknown {
		log.WithField("key", k).Debug("ignoring an unknown key of the --config file")
	}
	warnNoEffect(s, env, log)
	code := run(ctx, s, env, log)
	if code == ExitOK {
		log.Info("freezer-agent finished")
	}
	return code
}

// fail reports err as upstream does ("Critical Error: ..." on stderr unless
// --quiet, and in the log) and returns its exit status.
func fail(env Env, log *logrus.Entry, quiet bool, err error) int {
	code := exitCode(err)
	if code == ExitOK {
		return code
	}
	var ee *agent.ExitError
	if errors.As(err, &ee) {
		log.WithField("status", ee.Code).Error("command failed")
		return code
	}
	log.WithError(err).WithField("exit_status", code).Error("freezer-agent failed")
	if !quiet {
		fmt.Fprintf(env.Stderr, "Critical Error: %v\n", err)
	}
	return code
}

// exitCode maps an error to the documented exit status.
func exitCode(err error) int {
	var ee *agent.ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, agent.ErrUsage):
		return ExitUsage
	case errors.Is(err, agent.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, agent.ErrIntegrity):
		return ExitIntegrity
	}
	return ExitFailure
}

func run(ctx context.Context, s *settings, env Env, log *logrus.Entry) int {
	quiet := s.bool("quiet")
	o, err := s.agentOptions(env.Getenv)
	if err != nil {
		return fail(env, log, quiet, err)
	}
	if o.Mode == agent.ModeGlance || o.Engine == agent.ModeGlance {
		o.Mode, o.Engine = agent.ModeGlance, agent.ModeGlance // either selects it, as upstream
	}
	if err := o.Validate(); err != nil {
		return fail(env, log, quiet, err)
	}
	log = log.WithFields(logrus.Fields{"action": o.Action, "backup_name": o.BackupName})
	log.Info("freezer-agent starting")
	if t := s.int("timeout"); s.v.Active("", "timeout") && t > 0 {
		// As upstream, --timeout bounds the running operation; unset,
		// nothing does (the storages' idle timeout still catches a
		// stalled server).
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, time.Duration(t)*time.Second,
			fmt.Errorf("--timeout: the %s did not finish within %d s", o.Action, t))
		defer cancel()
	}
	if v := s.str("max_priority"); v != "" && v != "False" {
		if err := raisePriority(); err != nil {
			log.WithError(err).Warn("--max-priority: could not raise the priority")
		}
	}
	a := &agent.Agent{
		Codecs:   env.Deps.Codecs,
		Now:      env.Now,
		Stdout:   env.Stdout,
		Stderr:   env.Stderr,
		Log:      log,
		Progress: env.StderrIsTerminal && !quiet,
		Quiet:    quiet,
		// An interrupted backup's journal (see agent.ResumeDir), beside
		// the log upstream keeps in ~/.freezer.
		ResumeDir: expandHome("~/.freezer/resume", env.Getenv),
	}
	if s.str("metadata_out") == "-" {
		// stdout carries the result JSON: a command's output goes to stderr.
		a.CommandStdout = env.Stderr
		// A scheduler reads the result JSON from stdout, and upstream's
		// takes anything on stderr for a failure and then drops the
		// backup's metadata: stderr stays empty unless the run fails.
		a.Quiet = true
	}
	if o.Action != agent.ActionExec {
		specs, err := s.storageSpecs(env.Getenv)
		if err != nil {
			return fail(env, log, quiet, err)
		}
		for i := range specs {
			specs[i].ReadOnly = o.Action != agent.ActionBackup
		}
		if p := s.str("proxy"); p != "" {
			// As upstream: --proxy rewrites the proxy environment, which
			// every HTTP client of the storages reads (once, at its first
			// request, so before any storage is opened).
			for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
				os.Setenv(k, p)
			}
		}
		if env.Deps.OpenStorage == nil {
			return fail(env, log, quiet, errors.New("this build has no storage backends"))
		}
		st, err := env.Deps.OpenStorage(ctx, specs)
		if err != nil {
			return fail(env, log, quiet, fmt.Errorf("opening storage: %w", err))
		}
		if c, ok := st.(io.Closer); ok {
			defer c.Close()
		}
		a.Storage = st
		if env.SetMemoryLimit != nil {
			env.SetMemoryLimit(storage.BufferBytes(st) + memoryHeadroom)
		}
		src, eng, err := setupMode(ctx, s, &o, log, env.Getenv, env.Now) // modes.go
		if err != nil {
			return fail(env, log, quiet, err)
		}
		a.Source = src
		if eng == nil && o.Mode != agent.ModeGlance {
			if env.Deps.NewEngine == nil {
				return fail(env, log, quiet, errors.New("this build has no engines"))
			}
			if eng, err = env.Deps.NewEngine(o.Engine); err != nil {
				return fail(env, log, quiet, withUsage(fmt.Errorf("--engine: %w", err)))
			}
		}
		a.Engine = eng
		a.PickEngine, a.EngineNames = followStoredBackup(s, o, env.Deps.NewEngine) // modes.go
	}
	var res *agent.Result
	if o.Mode == agent.ModeGlance && o.Action != agent.ActionExec {
		res, err = runGlance(ctx, s, a, o, env.Getenv, log) // glance.go
	} else {
		res, err = a.Run(ctx, o)
	}
	if err != nil {
		if cause := context.Cause(ctx); ctx.Err() == context.DeadlineExceeded && cause != nil {
			err = fmt.Errorf("%w (%v)", cause, err)
		}
		if o.Action == agent.ActionVerify && res != nil && s.str("metadata_out") == "" {
			// The per-level report says which levels are damaged.
			writeResult(env, "", o.Action, res)
		}
		return fail(env, log, quiet, err)
	}
	out := s.str("metadata_out")
	if o.Action == agent.ActionList && out == "" && s.str("list_format") == "json" {
		out = "-"
	}
	if err := writeResult(env, out, o.Action, res); err != nil {
		return fail(env, log, quiet, err)
	}
	return ExitOK
}

func withUsage(err error) error { return agent.Usage(err) }

// writeResult prints the action's result: JSON to --metadata-out (as
// upstream, only a non-empty result is written), else a readable table on
// stdout.
func writeResult(env Env, out, action string, res *agent.Result) error {
	var v any
	switch action {
	case agent.ActionBackup:
		v = res.Metadata
	case agent.ActionInfo:
		v = res.Backups
	case agent.ActionList:
		v = res.Contents
	}
	if out != "" {
		if v == nil {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding the result: %w", err)
		}
		if out == "-" {
			_, err = env.Stdout.Write(b)
			return err
		}
		if err := os.WriteFile(out, b, 0o600); err != nil {
			return fmt.Errorf("writing --metadata-out: %w", err)
		}
		return nil
	}
	switch action {
	case agent.ActionBackup:
		writePropertyTable(env.Stdout, res.Metadata)
	case agent.ActionInfo:
		writeBackupsTable(env.Stdout, res.Backups)
	case agent.ActionAdmin:
		if len(res.Removed) == 0 {
			fmt.Fprintln(env.Stdout, "No backup to remove.")
		} else {
			writeBackupsTable(env.Stdout, res.Removed)
		}
	case agent.ActionVerify:
		writeVerifyTable(env.Stdout, res.Verified)
	case agent.ActionList:
		writeContentsTable(env.Stdout, res.Contents)
	}
	return nil
}

// writeVerifyTable prints verify's finding per level.
func writeVerifyTable(w io.Writer, cs []agent.LevelCheck) {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		status, where := "OK", "-"
		if !c.OK {
			status = "DAMAGED"
			where = c.Object
			if c.Offset >= 0 {
				where += fmt.Sprintf(" at byte %d", c.Offset)
			} else {
				where += " missing"
			}
		}
		rows = append(rows, []string{strconv.Itoa(c.Level), c.Backup, status, where})
	}
	table(w, []string{"Level", "Backup", "Status", "First damage"}, rows)
	for _, c := range cs {
		if !c.OK {
			fmt.Fprintf(w, "level %d: %s\n", c.Level, c.Error)
		}
	}
}

// settings are the resolved option values: command line > --config job
// INI > --config-file/--config-dir [DEFAULT] > defaults. Every option is a
// [DEFAULT] option of the schema.
type settings struct {
	schema   config.Schema
	v        *config.Values
	unknown  []string
	storages []config.JobStorage
}

// Sources of values, as Values.Source reports them.
const (
	fromOslo = "file"   // --config-file, --config-dir
	fromJob  = "config" // --config
	fromCLI  = "cli"
)

func resolve(cl cmdline, schema config.Schema, getenv func(string) string) (*settings, error) {
	ini, err := loadOsloFiles(cl)
	if err != nil {
		return nil, err
	}
	// oslo.config's $option substitution and types, as the Python agent
	// reads these files with it.
	v, err := schema.Bind(ini)
	if err != nil {
		return nil, err
	}
	s := &settings{schema: schema, v: v}
	cfg, ok := cl.args.Last("", "config")
	if !ok {
		cfg = v.String("", "config")
	}
	if cfg != "" && cfg != "False" {
		f, err := config.ReadJobFile(cfg)
		if err != nil {
			return nil, err
		}
		j, err := schema.ReadJob(f)
		if err != nil {
			return nil, err
		}
		if err := v.ApplySettings(j.Settings, fromJob); err != nil {
			return nil, err
		}
		s.unknown = j.Unknown
		s.storages = j.Storages
	}
	if err := v.Apply(cl.args, fromCLI); err != nil {
		return nil, err
	}
	return s, nil
}

// has reports whether the option has a value that is not empty.
func (s *settings) has(name string) bool { return s.v.String("", name) != "" }

func (s *settings) str(name string) string { return s.v.String("", name) }

func (s *settings) bool(name string) bool { return s.v.Bool("", name) }

func (s *settings) int(name string) int { return s.v.Int("", name) }

func (s *settings) float(name string) float64 { return s.v.Float("", name) }

// setBy is who set the option: fromOslo, fromJob, fromCLI, or "" for its
// default.
func (s *settings) setBy(name string) string { return s.v.Source("", name) }

// incremental decides whether backups are incremental. Upstream 13.0
// defaults to on (with unbounded levels), HEAD to off with an error when a
// level option is given without --incremental. We default to off, and a
// level option (--max-level, --always-level, --restart-always-level) turns
// it on, so 13.0 jobs that set levels keep working and jobs that set none
// get full, independent backups. An explicit --incremental/--noincremental
// or --no-incremental wins.
func (s *settings) incremental() bool {
	if s.bool("no_incremental") {
		return false
	}
	if s.setBy("incremental") != "" {
		return s.bool("incremental")
	}
	return s.int("max_level") > 0 || s.int("always_level") > 0 || s.float("restart_always_level") > 0
}

// agentOptions turns the settings into agent.Options, failing on options
// this agent does not implement.
func (s *settings) agentOptions(getenv func(string) string) (agent.Options, error) {
	if err := s.v.Unsupported(s.schema); err != nil {
		return agent.Options{}, withUsage(err)
	}
	o := agent.Options{
		Action:              s.str("action"),
		Mode:                s.str("mode"),
		Engine:              s.str("engine_name"),
		PathToBackup:        expandHome(s.str("path_to_backup"), getenv),
		RsyncBlockSize:      s.int("rsync_block_size"),
		BackupName:          s.str("backup_name"),
		Hostname:            s.str("hostname"),
		Container:           s.str("container"),
		Storage:             s.str("storage"),
		Compression:         s.str("compression"),
		EncryptPassFile:     expandHome(s.str("encrypt_pass_file"), getenv),
		EncryptionFormat:    s.str("encryption_format"),
		Incremental:         s.incremental(),
		MaxLevel:            s.int("max_level"),
		AlwaysLevel:         s.int("always_level"),
		RestartAlwaysLevel:  s.float("restart_always_level"),
		RestoreAbsPath:      expandHome(s.str("restore_abs_path"), getenv),
		DereferenceSymlink:  s.str("dereference_symlink"),
		Overwrite:           s.bool("overwrite"),
		DryRun:              s.bool("dry_run"),
		VerifyReadData:      s.bool("verify_read_data"),
		ListGlob:            s.str("list_glob"),
		RestorePaths:        s.v.List("", "restore_path"),
		Sync:                s.bool("sync"),
		ConsistencyCheck:    s.bool("consistency_check"),
		ConsistencyChecksum: s.str("consistency_checksum"),
		Command:             s.str("command"),
	}
	if o.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return o, fmt.Errorf("finding this host's name (give --hostname): %w", err)
		}
		o.Hostname = h
	}
	if e := s.str("exclude"); e != "" {
		o.Exclude = []string{e}
	}
	if d := s.str("restore_from_date"); d != "" {
		t, err := agent.ParseDate(d)
		if err != nil {
			return o, withUsage(fmt.Errorf("--restore-from-date: %w", err))
		}
		o.RestoreFromDate = t
	}
	if d := s.str("remove_from_date"); d != "" {
		t, err := agent.ParseDate(d)
		if err != nil {
			return o, withUsage(fmt.Errorf("--remove-from-date: %w", err))
		}
		o.RemoveFromDate = t
	}
	if s.has("remove_older_than") {
		o.HaveRemoveOlder = true
		o.RemoveOlderThan = s.float("remove_older_than")
	}
	o.AbandonedUploadGrace = s.float("abandoned_upload_grace")
	if s.int("max_segment_size") <= 0 {
		return o, withUsage(errors.New("--max-segment-size must be positive"))
	}
	if p := s.str("proxy"); p != "" && !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
		return o, withUsage(fmt.Errorf("--proxy %q: must start with http:// or https://", p))
	}
	// Upstream echoes these options in the result JSON.
	o.ResultExtras = map[string]any{
		"log_file":     s.str("log_file"),
		"proxy":        s.str("proxy"),
		"ssh_key":      s.str("ssh_key"),
		"ssh_username": s.str("ssh_username"),
		"ssh_host":     s.str("ssh_host"),
		"ssh_port":     s.int("ssh_port"),
	}
	if o.Storage != "ssh" {
		for _, k := range []string{"ssh_key", "ssh_username", "ssh_host"} {
			o.ResultExtras[k] = ""
		}
		o.ResultExtras["ssh_port"] = ""
	}
	return o, nil
}

// storageSpecs returns the storages to open: one per [storage:NAME]
// section of the job INI when there are any (the top-level storage and
// container are then only reported, as upstream does), else the top-level
// one.
func (s *settings) storageSpecs(getenv func(string) string) ([]StorageSpec, error) {
	base := map[string]string{}
	for _, k := range storageKeys() {
		v := s.str(k)
		if s.v.Type("", k) == config.Bool && !s.bool(k) {
			v = "" // unset, so a storage may fall back to the environment (OS_INSECURE)
		}
		base[k] = v
	}
	base["ssh_key"] = expandHome(base["ssh_key"], getenv)
	if len(s.storages) == 0 {
		t := s.str("storage")
		c := s.str("container")
		if t == "local" {
			c = expandHome(c, getenv)
		}
		return []StorageSpec{{Type: t, Container: c, Options: base, Getenv: getenv}}, nil
	}
	var specs []StorageSpec
	for _, st := range s.storages {
		name, sec := st.Section, st.Values
		t, c := sec["storage"], sec["container"]
		if t == "" || t == "False" || c == "" || c == "False" {
			return nil, withUsage(fmt.Errorf("[%s]: needs storage and container", name))
		}
		opts := map[string]string{}
		jobLimits := map[string]string{}
		for k, v := range base {
			if k == "upload_limit" || k == "download_limit" {
				jobLimits[k] = v
				continue
			}
			opts[k] = v
		}
		for k, v := range sec {
			if k == "storage" || k == "container" {
				continue
			}
			if v == "False" {
				v = ""
			}
			opts[k] = v
		}
		if t == "local" {
			c = expandHome(c, getenv)
		}
		opts["ssh_key"] = expandHome(opts["ssh_key"], getenv)
		specs = append(specs, StorageSpec{Type: t, Container: c, Options: opts, Getenv: getenv, JobLimits: jobLimits})
	}
	return specs, nil
}

func expandHome(p string, getenv func(string) string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		return filepath.Join(home, strings.TrimPrefix(p, "~"))
	}
	return p
}

// warnNoEffect warns about each option that was set but does nothing in
// this agent: in the log, and as a log line on stderr unless the run is
// --quiet or stderr must stay empty (--metadata-out -, where a scheduler
// takes anything on stderr for a failure).
func warnNoEffect(s *settings, env Env, log *logrus.Entry) {
	opts := s.v.NoEffect(s.schema)
	if len(opts) == 0 {
		return
	}
	var tty *logrus.Entry
	if !s.bool("quiet") && s.str("metadata_out") != "-" {
		l := logrus.New()
		l.SetOutput(env.Stderr)
		l.SetFormatter(&logrus.TextFormatter{DisableColors: true, FullTimestamp: true})
		tty = logrus.NewEntry(l).WithField("component", "freezer-agent")
	}
	for _, o := range opts {
		for _, e := range []*logrus.Entry{log, tty} {
			if e != nil {
				e.WithFields(logrus.Fields{"option": o.Flag(), "reason": o.NoEffect}).Warn("option accepted but has no effect")
			}
		}
	}
}

// writeContentsTable prints list's merged contents.
func writeContentsTable(w io.Writer, cs []agent.ContentEntry) {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		name := c.Path
		if c.Linkname != "" {
			name += " -> " + c.Linkname
		}
		rows = append(rows, []string{name, c.Type, strconv.FormatInt(c.Size, 10), c.Mode, c.Owner + "/" + c.Group,
			c.MTime.Format("2006-01-02 15:04:05"), strconv.Itoa(c.Level)})
	}
	table(w, []string{"Path", "Type", "Size", "Mode", "Owner", "Mtime (UTC)", "Level"}, rows)
}
