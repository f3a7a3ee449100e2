package agent

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer/backup"
)

// Codecs makes the codec chain's stages by the names recorded in metadata.
type Codecs interface {
	// Compressor returns the named compressor ("gzip", "zstd", ...).
	Compressor(name string) (backup.Codec, error)
	// Cipher returns the named encryption format ("openssl", ...) keyed
	// with passphrase, over data compressed with compression (the openssl
	// format uses it to tell the right key derivation on decode).
	Cipher(format string, passphrase []byte, compression string) (backup.Codec, error)
	// ReadPassFile reads the passphrase of an --encrypt-pass-file as the
	// cipher formats take it, so a file that works with the Python agent
	// works here. A file that cannot be read is an error; an empty
	// passphrase is not (the agent refuses it itself).
	ReadPassFile(path string) ([]byte, error)
}

// Agent runs actions. Its fields are its dependencies; the zero values of
// the optional ones are usable.
type Agent struct {
	Storage backup.Storage // not needed by exec
	Engine  backup.Engine  // needed by backup and restore
	Codecs  Codecs         // needed by backup and restore
	// Source, when set, prepares what a backup reads (a mode's lock, a
	// snapshot); nil reads --path-to-backup as it is.
	Source Source

	Now    func() time.Time // injected clock; nil = time.Now
	Stdout io.Writer        // command output (exec), dry-run listings
	Stderr io.Writer        // progress and the final stats line
	Log    *logrus.Entry    // nil = discard

	// Progress shows a live progress line on Stderr (set it when Stderr is a
	// terminal) and Quiet suppresses the final stats line.
	Progress bool
	Quiet    bool

	// TempDir holds engine state files while they move between storage and
	// engine; "" = os.TempDir().
	TempDir string
	// ResumeDir holds the journals that let an interrupted backup resume
	// (see resume.go); "" means backups are never resumed.
	ResumeDir string
	// ChunkSize and QueueDepth bound the pipeline's memory: at most about
	// (QueueDepth+2) × ChunkSize bytes per queue. Zero = 1 MiB and 8.
	ChunkSize  int
	QueueDepth int
	// CommandStdout receives exec's command output; nil = Stdout.
	CommandStdout io.Writer

	// PickEngine, when set, makes a restore follow the stored backup
	// instead of Engine: the backups of every engine in EngineNames are
	// looked up, the newest at --restore-from-date is chosen, and
	// PickEngine returns the engine for its metadata (or an error when
	// the metadata contradicts what the user asked for).
	PickEngine  func(md backup.Metadata) (backup.Engine, error)
	EngineNames []string
}

// Result is what an action reports. Backup fills Metadata (the result JSON
// upstream prints for --metadata-out and the scheduler posts to the API);
// info fills Backups; admin fills Removed.
type Result struct {
	Metadata map[string]any
	Backups  []BackupInfo
	Removed  []BackupInfo
	Verified []LevelCheck
	Contents []ContentEntry
}

// Run validates o and runs its action.
func (a *Agent) Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	switch o.Action {
	case ActionBackup:
		return a.backup(ctx, o)
	case ActionRestore:
		return a.restore(ctx, o)
	case ActionInfo:
		return a.info(ctx, o)
	case ActionAdmin:
		return a.admin(ctx, o)
	case ActionVerify:
		return a.verify(ctx, o)
	case ActionList:
		return a.list(ctx, o)
	default:
		return a.exec(ctx, o)
	}
}

func (a *Agent) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Agent) log() *logrus.Entry {
	if a.Log != nil {
		return a.Log
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func (a *Agent) stderr() io.Writer {
	if a.Stderr != nil {
		return a.Stderr
	}
	return io.Discard
}

func (a *Agent) stdout() io.Writer {
	if a.Stdout != nil {
		return a.Stdout
	}
	return io.Discard
}

func (a *Agent) newPipe() *queuePipe {
	size, depth := a.ChunkSize, a.QueueDepth
	if size <= 0 {
		size = 1 << 20
	}
	if depth <= 0 {
		depth = 8
	}
	return newQueuePipe(depth, size)
}

// listRefs lists the committed backups of engine/name: those whose
// metadata object exists. Data without metadata (an interrupted run) is
// never listed.
func (a *Agent) listRefs(ctx context.Context, engine, name string) ([]backup.Ref, error) {
	st := a.Storage
	l0s, err := st.List(ctx, backup.ChainsDir(engine, name))
	if err != nil {
		return nil, fmt.Errorf("listing backup chains of %s on %s: %w", name, st, err)
	}
	var refs []backup.Ref
	for _, s := range l0s {
		l0, err := strconv.ParseInt(s, 10, 64)
		if err != nil || l0 < 0 {
			a.log().WithField("entry", s).Debug("ignoring a non-chain entry in the metadata tree")
			continue
		}
		dirs, err := st.List(ctx, backup.ChainDir(engine, name, l0))
		if err != nil {
			return nil, fmt.Errorf("listing backup chain %s/%d on %s: %w", name, l0, st, err)
		}
		for _, d := range dirs {
			lvl, ts, err := backup.ParseLevelDir(d)
			if err != nil {
				a.log().WithField("entry", d).Debug("ignoring a non-backup entry in the metadata tree")
				continue
			}
			r := backup.Ref{Engine: engine, Name: name, L0: l0, Level: lvl, TS: ts}
			names, err := st.List(ctx, r.MetadataDir())
			if err != nil {
				return nil, fmt.Errorf("listing backup %s on %s: %w", r, st, err)
			}
			committed := false
			for _, n := range names {
				if n == "metadata" {
					committed = true
				}
			}
			if committed {
				refs = append(refs, r)
			}
		}
	}
	backup.SortRefs(refs)
	return refs, nil
}

// readMetadata fetches and decodes one backup's metadata object.
func (a *Agent) readMetadata(ctx context.Context, r backup.Ref) (backup.Metadata, error) {
	rc, err := a.Storage.Get(ctx, r.MetadataKey())
	if err != nil {
		return backup.Metadata{}, fmt.Errorf("reading metadata of backup %s: %w", r, err)
	}
	defer rc.Close()
	// The object is one short JSON line; 1 MiB bounds a hostile one.
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return backup.Metadata{}, fmt.Errorf("reading metadata of backup %s: %w", r, err)
	}
	m, err := backup.DecodeMetadata(b)
	if err != nil {
		return backup.Metadata{}, withKind(ErrIntegrity, fmt.Errorf("backup %s: %w", r, err))
	}
	return m, nil
}

// compressor returns the named payload compressor: the engine's own
// stream for that name if it has one (backup.PayloadCompressor), else the
// common codec.
func (a *Agent) compressor(name string) (backup.Codec, error) {
	if pc, ok := a.Engine.(backup.PayloadCompressor); ok {
		if c, ok := pc.PayloadCompressor(name); ok {
			return c, nil
		}
	}
	return a.Codecs.Compressor(name)
}

// streamName names the stream a compressor writes, which the openssl
// format recognises after decryption. An engine's own compressor recorded
// under another name (rsync's "gzip" is a zlib stream) says so with
// Stream.
func streamName(c backup.Codec) string {
	if s, ok := c.(interface{ Stream() string }); ok {
		return s.Stream()
	}
	return c.Name()
}

// readPassphrase reads the passphrase through Codecs.ReadPassFile; an empty
// passphrase is refused as a usage error.
func (a *Agent) readPassphrase(path string) ([]byte, error) {
	b, err := a.Codecs.ReadPassFile(path)
	if err != nil {
		return nil, withKind(ErrUsage, fmt.Errorf("--encrypt-pass-file: %w", err))
	}
	if len(b) == 0 {
		return nil, usagef("--encrypt-pass-file %s: the first line (the passphrase) is empty", path)
	}
	return b, nil
}

// spool copies a storage object into a temp file, so an engine can read it
// at its own pace without holding a storage connection open.
func (a *Agent) spool(ctx context.Context, key string) (*os.File, error) {
	rc, err := a.Storage.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp(a.TempDir, "freezer-state-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temp file: %w", err)
	}
	os.Remove(f.Name()) // unlinked: gone with the process, whatever happens
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return nil, fmt.Errorf("downloading %s: %w", key, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
