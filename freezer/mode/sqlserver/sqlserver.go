// Package sqlserver is upstream's sqlserver mode (Windows): the SQL Server
// service named by --sql-server-conf's [default] instance is stopped
// before a VSS snapshot is taken and started again at once afterwards.
//
// This build has no VSS snapshot provider and this machine no Windows, so
// the command line refuses the mode; the hooks' commands are tested
// against a fake runner (tests named ...Fake...), never run for real.
package sqlserver

import (
	"context"
	"errors"
	"fmt"

	"freezer.dev/freezer/freezer/mode"
)

// Runner runs a command.
type Runner func(ctx context.Context, name string, args ...string) error

// LoadInstance reads the instance name from --sql-server-conf.
func LoadInstance(path string) (string, error) {
	v, err := mode.ReadSection(path, "default")
	if err != nil {
		return "", fmt.Errorf("--sql-server-conf: %w", err)
	}
	if v["instance"] == "" {
		return "", fmt.Errorf("--sql-server-conf %s: no instance in [default]", path)
	}
	return v["instance"], nil
}

// Service is the mode's Hooks.
type Service struct {
	Instance string
	Run      Runner
	stopped  bool
}

// Name implements mode.Hooks.
func (*Service) Name() string { return "sqlserver" }

func (s *Service) service() string { return fmt.Sprintf("SQL Server (%s)", s.Instance) }

// Prepare implements mode.Hooks: net stop.
func (s *Service) Prepare(ctx context.Context) error {
	if s.Run == nil {
		return errors.New("sqlserver: no command runner")
	}
	if err := s.Run(ctx, "net", "stop", s.service()); err != nil {
		return fmt.Errorf("stopping %s: %w", s.service(), err)
	}
	s.stopped = true
	return nil
}

// Release implements mode.Hooks: net start, once, if it was stopped.
func (s *Service) Release(ctx context.Context) error {
	if !s.stopped {
		return nil
	}
	if err := s.Run(ctx, "net", "start", s.service()); err != nil {
		return fmt.Errorf("starting %s: %w", s.service(), err)
	}
	s.stopped = false
	return nil
}
