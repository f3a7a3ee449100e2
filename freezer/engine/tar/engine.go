package tar

import (
	"runtime"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// defaultBufferSize is the size of the single I/O buffer each backup or
// restore uses; large reads keep the page-cache → stream copy well above
// the codecs' speed.
const defaultBufferSize = 1 << 20

// snapshotMargin is subtracted from the start time recorded in the
// snapshot. File times come from a coarse kernel clock that can lag the
// wall clock by a tick, so a file written just after a backup started may
// carry an mtime slightly before that start; GNU tar would never save it
// again. Re-saving files changed within this margin costs little and never
// loses a change.
const snapshotMargin = time.Second

// Options configures the engine.
type Options struct {
	// Now returns the current time; it stamps the snapshot. Nil means
	// time.Now.
	Now func() time.Time
	// BufferSize is the I/O buffer size in bytes; 0 means 1 MiB.
	BufferSize int
	// RestoreWorkers is how many goroutines finish small files during a
	// restore besides the one reading the archive (see finisher); 0 means
	// the number of CPUs, at most 4; 1 or less than 0 means none.
	RestoreWorkers int
}

// Engine is the native GNU-tar-compatible engine. It is safe for
// concurrent use: each Backup and Restore call has its own state.
type Engine struct {
	now     func() time.Time
	bufSize int
	workers int
	// finishFile replaces the finisher's work on one file in tests.
	finishFile func(fileJob, func(string, ...any)) error
}

var _ backup.Engine = (*Engine)(nil)

// New returns a tar engine.
func New(opts Options) *Engine {
	e := &Engine{now: opts.Now, bufSize: opts.BufferSize, workers: opts.RestoreWorkers}
	if e.workers == 0 {
		e.workers = min(runtime.GOMAXPROCS(0), 4)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.bufSize < 64<<10 {
		e.bufSize = defaultBufferSize
	}
	// Whole blocks keep file data aligned in the buffer.
	e.bufSize = e.bufSize / blockSize * blockSize
	return e
}

// Name returns "tar", the engine name upstream writes into the layout.
func (e *Engine) Name() string { return "tar" }
