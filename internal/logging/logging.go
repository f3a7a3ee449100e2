// Package logging sets up structured logs (logrus) the same way in all
// three programs and carries the current entry, with its fields
// (component, request_id, job_id, ...), in a context so that the top layer
// logs with everything the lower layers added.
package logging

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
)

// Options chooses where and how to log.
type Options struct {
	File   string    // append to this file; "" means Output
	Output io.Writer // default os.Stderr
	Debug  bool
	JSON   bool // JSON lines instead of logfmt text
	Quiet  bool // warnings and errors only
}

// New builds a logger entry tagged with component. The returned close
// function closes the log file, if one was opened.
func New(component string, o Options) (*logrus.Entry, func() error, error) {
	l := logrus.New()
	closeFn := func() error { return nil }
	switch {
	case o.File != "":
		f, err := os.OpenFile(o.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("opening log file: %w", err)
		}
		l.SetOutput(f)
		closeFn = f.Close
	case o.Output != nil:
		l.SetOutput(o.Output)
	default:
		l.SetOutput(os.Stderr)
	}
	if o.JSON {
		l.SetFormatter(&logrus.JSONFormatter{})
	} else {
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, DisableColors: true})
	}
	switch {
	case o.Debug:
		l.SetLevel(logrus.DebugLevel)
	case o.Quiet:
		l.SetLevel(logrus.WarnLevel)
	default:
		l.SetLevel(logrus.InfoLevel)
	}
	return l.WithField("component", component), closeFn, nil
}

type ctxKey struct{}

// With returns a context carrying e.
func With(ctx context.Context, e *logrus.Entry) context.Context {
	return context.WithValue(ctx, ctxKey{}, e)
}

// From returns the entry carried by ctx, or one that discards everything,
// so libraries can log without checking.
func From(ctx context.Context) *logrus.Entry {
	if e, ok := ctx.Value(ctxKey{}).(*logrus.Entry); ok {
		return e
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// Secret is a string that never appears in logs or %v output.
type Secret string

// String hides the value.
func (Secret) String() string { return "***" }

// GoString hides the value from %#v too.
func (Secret) GoString() string { return "***" }

// Reveal returns the value, for the one place that must use it.
func (s Secret) Reveal() string { return string(s) }
