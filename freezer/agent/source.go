package agent

import "context"

// Source makes what a backup reads consistent (a database lock, a
// snapshot: spec §7.1, upstream's mode.prepare and snapshot_create) and
// undoes it afterwards. A mode and --snapshot are wired in as one Source.
//
// Prepare is called once per backup, after the options and codecs are
// checked and before anything is read. Release is then called exactly
// once, whatever happened — Prepare failed, the backup failed, ctx was
// cancelled (SIGTERM) — with a context that is not cancelled. Release must
// undo whatever part of Prepare succeeded and be safe when nothing did.
type Source interface {
	Prepare(ctx context.Context, path string) (Prepared, error)
	Release(ctx context.Context) error
}

// Prepared is what Source.Prepare made ready.
type Prepared struct {
	// Path is what the engine reads instead of the path asked for (the
	// same place inside a snapshot); "" = the path asked for.
	Path string
	// Snapshot is the snapshot kind used ("btrfs", "lvm"); "" = none. It is
	// recorded in the backup's metadata.
	Snapshot string
	// Stats are added to the result JSON and the log line (lock_seconds,
	// ...).
	Stats map[string]any
}
