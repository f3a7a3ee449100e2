package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/ncruces/go-strftime"
	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/internal/config"
)

// DefaultDateFormat is oslo.log's log_date_format default (strftime).
const DefaultDateFormat = "%Y-%m-%d %H:%M:%S"

const unsupportedLog = "logging is configured by the oslo.log options only"

// Opts declares the oslo.log options all three programs honour, in group
// and listed under section in --help. Each program passes what it reads
// to Setup through FromValues.
func Opts(group, section string) config.Schema {
	return config.Schema{
		{Group: group, Name: "debug", Short: "d", Type: config.Bool, Default: "false", Section: section, Help: "Log at debug level instead of info."},
		{Group: group, Name: "log_file", Aliases: []string{"logfile"}, Section: section, Metavar: "PATH",
			Help: "Log to this file (relative to log_dir if that is set)."},
		{Group: group, Name: "log_dir", Aliases: []string{"logdir"}, Section: section, Metavar: "DIR",
			Help: "Directory of a relative log_file; without log_file the log is <log_dir>/<program>.log."},
		{Group: group, Name: "use_stderr", Type: config.Bool, Default: "false", Section: section,
			Help: "Log to standard error as well. Without a log file, standard error or the journal the log goes to standard output."},
		{Group: group, Name: "use_json", Type: config.Bool, Default: "false", Section: section, Help: "Log JSON lines instead of key=value text."},
		{Group: group, Name: "log_date_format", Default: DefaultDateFormat, Section: section, Metavar: "DATE_FORMAT",
			Help: "strftime format of the time of each log line."},
		{Group: group, Name: "use_syslog", Type: config.Bool, Default: "false", Section: section, Help: "Log to syslog (/dev/log) as well."},
		{Group: group, Name: "syslog_log_facility", Default: "LOG_USER", Section: section,
			Help: "Syslog facility of use_syslog and use_journal: LOG_USER, LOG_DAEMON, LOG_LOCAL0 to LOG_LOCAL7, ... (the LOG_ prefix may be left out)."},
		{Group: group, Name: "use_journal", Type: config.Bool, Default: "false", Section: section,
			Help: "Log to the systemd journal with structured fields (its native protocol)."},
		{Group: group, Name: "watch_log_file", Type: config.Bool, Default: "false", Section: section, NoEffect: "the file is not reopened when moved; use logrotate's copytruncate",
			Help: "oslo.log: reopen the log file when it is moved."},
		{Group: group, Name: "log_config_append", Aliases: []string{"log_config"}, Section: section, NoEffect: unsupportedLog, Metavar: "PATH",
			Help: "oslo.log: a Python logging configuration file."},
	}
}

// Oslo holds the oslo.log options; the zero value logs info lines to
// standard output, as oslo.log does when nothing is configured.
type Oslo struct {
	Debug          bool
	LogFile        string
	LogDir         string
	UseStderr      bool
	UseJSON        bool
	DateFormat     string // strftime; "" means DefaultDateFormat
	UseSyslog      bool
	SyslogFacility string // "" means LOG_USER
	UseJournal     bool

	// Where syslog and journal datagrams go; "" means the system's
	// sockets. Tests point them at sockets they listen on.
	syslogAddr, journalAddr string
}

// FromValues reads the options of Opts from v.
func FromValues(v *config.Values, group string) Oslo {
	return Oslo{
		Debug:          v.Bool(group, "debug"),
		LogFile:        v.String(group, "log_file"),
		LogDir:         v.String(group, "log_dir"),
		UseStderr:      v.Bool(group, "use_stderr"),
		UseJSON:        v.Bool(group, "use_json"),
		DateFormat:     v.String(group, "log_date_format"),
		UseSyslog:      v.Bool(group, "use_syslog"),
		SyslogFacility: v.String(group, "syslog_log_facility"),
		UseJournal:     v.Bool(group, "use_journal"),
	}
}

// Path is the log file as oslo.log combines log_file and log_dir: log_file
// alone; log_dir/log_file (os.path.join: an absolute log_file wins); log_dir alone gives <log_dir>/<program>.log; ""
// when neither is set.
func (o Oslo) Path(program string) string {
	switch {
	case o.LogFile != "" && o.LogDir != "" && !filepath.IsAbs(o.LogFile):
		return filepath.Join(o.LogDir, o.LogFile)
	case o.LogFile != "":
		return o.LogFile
	case o.LogDir != "":
		return filepath.Join(o.LogDir, program+".log")
	}
	return ""
}

// Log is a logger set up by Setup.
type Log struct {
	*logrus.Logger
	file    *logFile // nil without a log file
	closers []io.Closer
}

// Close closes the log file and the syslog and journal sockets.
func (l *Log) Close() error {
	var first error
	for _, c := range l.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Reopen reopens the log file, so that logrotate's "kill -HUP" starts a
// fresh one; without a log file it does nothing.
func (l *Log) Reopen() error {
	if l.file == nil {
		return nil
	}
	return l.file.reopen()
}

// Setup builds the logger of program (also the syslog identifier) as
// oslo.log does: the log file if there is one; standard error if
// use_stderr; the journal if use_journal; standard output if none of these
// three; and syslog in addition if use_syslog.
func Setup(program string, o Oslo, stdout, stderr io.Writer) (*Log, error) {
	l := &Log{Logger: logrus.New()}
	datefmt := o.DateFormat
	if datefmt == "" {
		datefmt = DefaultDateFormat
	}
	layout, err := strftime.Layout(datefmt)
	if err != nil {
		return nil, fmt.Errorf("log_date_format %q: %w", datefmt, err)
	}
	if o.UseJSON {
		l.SetFormatter(&logrus.JSONFormatter{TimestampFormat: layout})
	} else {
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, DisableColors: true, TimestampFormat: layout})
	}
	l.SetLevel(logrus.InfoLevel)
	if o.Debug {
		l.SetLevel(logrus.DebugLevel)
	}
	facility := 1 // LOG_USER
	if o.UseSyslog || o.UseJournal {
		if facility, err = Facility(o.SyslogFacility); err != nil {
			return nil, err
		}
	}

	var outs []io.Writer
	path := o.Path(program)
	if path != "" {
		f := &logFile{path: path}
		if err := f.reopen(); err != nil {
			return nil, err
		}
		l.file = f
		outs = append(outs, f)
		l.closers = append(l.closers, f)
	}
	if o.UseStderr {
		outs = append(outs, stderr)
	}
	if o.UseJournal {
		j := &journal{datagramConn: datagramConn{addr: orDefault(o.journalAddr, journalSocket)}, ident: program, facility: facility, format: l.Formatter}
		l.AddHook(j)
		l.closers = append(l.closers, j)
	}
	if path == "" && !o.UseStderr && !o.UseJournal {
		outs = append(outs, stdout)
	}
	if o.UseSyslog {
		s := &syslogHook{datagramConn: datagramConn{addr: orDefault(o.syslogAddr, syslogSocket)}, ident: program, facility: facility, format: l.Formatter}
		l.AddHook(s)
		l.closers = append(l.closers, s)
	}
	switch len(outs) {
	case 0:
		l.SetOutput(io.Discard)
	case 1:
		l.SetOutput(outs[0])
	default:
		l.SetOutput(io.MultiWriter(outs...))
	}
	return l, nil
}

// logFile appends to a file that Reopen can replace under a running
// logger.
type logFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func (f *logFile) reopen() error {
	nf, err := os.OpenFile(f.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("opening the log file: %w", err)
	}
	f.mu.Lock()
	old := f.f
	f.f = nf
	f.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (f *logFile) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Write(b)
}

func (f *logFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Close()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
