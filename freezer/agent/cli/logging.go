package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
)

// setupLog opens the log. Like upstream the agent never logs to stderr
// (stderr carries progress and the "Critical Error" line); the file is
// --log-file (relative to --log-dir), else
// /var/log/freezer-agent/freezer-agent.log when writable, else
// ~/.freezer/freezer.log.
func setupLog(s *settings, env Env) (*logrus.Logger, func(), error) {
	level := logrus.InfoLevel
	if s.bool("debug") {
		level = logrus.DebugLevel
	}
	if env.Log != nil {
		env.Log.SetLevel(level)
		return env.Log, func() {}, nil
	}
	l := logrus.New()
	l.SetLevel(level)
	if s.bool("use_json") {
		l.SetFormatter(&logrus.JSONFormatter{})
	} else {
		l.SetFormatter(&logrus.TextFormatter{DisableColors: true, FullTimestamp: true})
	}
	var f *os.File
	var err error
	if p := s.str("log_file"); p != "" {
		p = expandHome(p, env.Getenv)
		if d := s.str("log_dir"); d != "" && !filepath.IsAbs(p) {
			p = filepath.Join(expandHome(d, env.Getenv), p)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
		if f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640); err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
	} else {
		f, err = os.OpenFile("/var/log/freezer-agent/freezer-agent.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			p := expandHome("~/.freezer/freezer.log", env.Getenv)
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
				f, err = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
				if err != nil {
					f = nil
				}
			}
		}
	}
	if f == nil {
		l.SetOutput(io.Discard)
		return l, func() {}, nil
	}
	l.SetOutput(f)
	return l, func() { f.Close() }, nil
}
