package mode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"freezer.dev/freezer/freezer/agent"
	"freezer.dev/freezer/freezer/snapshot"
)

// Hooks are a mode's prepare and release steps (upstream's mode.prepare
// and mode.release).
//
// Prepare makes the data on disk consistent and keeps it so until Release
// (a read lock, a stopped service). Release undoes Prepare; it is called
// once Prepare was called, whether Prepare succeeded or not, and again
// after the backup, so it must be idempotent and safe when Prepare did
// nothing.
type Hooks interface {
	Name() string
	Prepare(ctx context.Context) error
	Release(ctx context.Context) error
}

// Source is an agent.Source: Hooks, then a snapshot (when Kind is set),
// then Release at once; the backup reads the snapshot.
type Source struct {
	Hooks Hooks // nil = fs: nothing to quiesce
	// Snapshots takes the snapshot; Kind is "auto", "btrfs" or "lvm", or ""
	// for none (the hooks are then held for the whole backup).
	Snapshots *snapshot.Manager
	Kind      string
	Now       func() time.Time // nil = time.Now

	snap      *snapshot.Snapshot
	prepared  bool
	released  bool
	lockStart time.Time
	lockHeld  time.Duration
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Prepare implements agent.Source.
func (s *Source) Prepare(ctx context.Context, path string) (agent.Prepared, error) {
	p := agent.Prepared{Path: path, Stats: map[string]any{}}
	if s.Hooks != nil {
		s.prepared = true
		s.lockStart = s.now()
		if err := s.Hooks.Prepare(ctx); err != nil {
			return p, fmt.Errorf("%s mode: %w", s.Hooks.Name(), err)
		}
	}
	if s.Kind != "" {
		snap, err := s.Snapshots.Take(ctx, s.Kind, path)
		if err != nil {
			return p, err
		}
		s.snap = snap
		p.Path, p.Snapshot = snap.Path(), snap.Record.Kind
		p.Stats["snapshot_name"] = snap.Record.Name
		// The snapshot is consistent: let writers go at once.
		if err := s.release(ctx); err != nil {
			return p, err
		}
	}
	if s.Hooks != nil && s.released {
		p.Stats["lock_seconds"] = s.lockHeld.Seconds()
	}
	return p, nil
}

func (s *Source) release(ctx context.Context) error {
	if s.Hooks == nil || !s.prepared || s.released {
		return nil
	}
	err := s.Hooks.Release(ctx)
	if err == nil {
		s.released = true
		s.lockHeld = s.now().Sub(s.lockStart)
	}
	if err != nil {
		return fmt.Errorf("%s mode: releasing: %w", s.Hooks.Name(), err)
	}
	return nil
}

// Release implements agent.Source: the hooks (when still held), then the
// snapshot.
func (s *Source) Release(ctx context.Context) error {
	err := s.release(ctx)
	if s.snap != nil {
		if rerr := s.snap.Remove(ctx); rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			s.snap = nil
		}
	}
	return err
}

// LockHeld is how long the hooks held the data (the lock time), once
// released.
func (s *Source) LockHeld() time.Duration { return s.lockHeld }
