package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/internal/logging"
)

// setupLog opens the log with the oslo.log options, as the API and the
// scheduler do, except where upstream's agent differs: it never falls back
// to standard output (that carries the action's output) and it always has
// a file: --log-file (relative to --log-dir), else <log_dir>/freezer-agent.log,
// else /var/log/freezer-agent/freezer-agent.log when writable, else
// ~/.freezer/freezer.log; when none can be written, only use_stderr,
// use_syslog and use_journal receive the log.
func setupLog(s *settings, env Env) (*logrus.Logger, func(), error) {
	if env.Log != nil {
		env.Log.SetLevel(logrus.InfoLevel)
		if s.bool("debug") {
			env.Log.SetLevel(logrus.DebugLevel)
		}
		return env.Log, func() {}, nil
	}
	o := logging.FromValues(s.v, "")
	p := ""
	switch {
	case o.LogFile != "":
		p = expandHome(o.LogFile, env.Getenv)
		if o.LogDir != "" && !filepath.IsAbs(p) {
			p = filepath.Join(expandHome(o.LogDir, env.Getenv), p)
		}
	case o.LogDir != "":
		p = filepath.Join(expandHome(o.LogDir, env.Getenv), "freezer-agent.log")
	}
	if p != "" {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
	} else {
		p = defaultLogFile(env)
	}
	o.LogFile, o.LogDir = p, ""
	l, err := logging.Setup("freezer-agent", o, io.Discard, env.Stderr)
	if err != nil {
		return nil, nil, fmt.Errorf("--log-file: %w", err)
	}
	return l.Logger, func() { l.Close() }, nil
}

// defaultLogFile is upstream's default log file, the first that can be
// written, or "".
func defaultLogFile(env Env) string {
	const system = "/var/log/freezer-agent/freezer-agent.log"
	if f, err := os.OpenFile(system, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640); err == nil {
		f.Close()
		return system
	}
	p := expandHome("~/.freezer/freezer.log", env.Getenv)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return ""
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return ""
	}
	f.Close()
	return p
}
