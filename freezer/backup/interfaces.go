package backup

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned (wrapped) by Storage.Get when a key does not exist.
var ErrNotFound = errors.New("not found")

// ErrCorrupt is wrapped by Engine.Restore errors caused by the archive
// itself: a bad header, a member cut short, a missing end marker, a
// malformed directory listing. Errors of the input stream below the archive
// and of the target file system never wrap it, so a caller can tell damaged
// data from a failing disk.
var ErrCorrupt = errors.New("corrupt archive")

// ErrUnsafePath is wrapped by Engine.Restore errors for members that would
// create, change or remove something outside the target directory.
var ErrUnsafePath = errors.New("unsafe path in archive")

// Storage is a flat object store whose keys are "/"-separated paths relative
// to the storage's root (the --container value). Backends: local, swift, s3,
// ssh, ftp, multi; decorators (retry, bandwidth limit, metrics) wrap one.
//
// Every implementation passes storagetest.Run.
type Storage interface {
	// Put stores everything read from r under key. The object becomes
	// visible to Get and List only after Put returns nil: on error nothing is
	// visible under key (unreferenced temporaries or segments may remain, but
	// never a partial object at key). Put does not close r. A payload key
	// (base name "data") may be stored as several physical objects, e.g.
	// Swift segments plus a manifest, as the on-storage layout prescribes.
	Put(ctx context.Context, key string, r io.Reader) error

	// Get opens key for reading; the caller must Close it. A missing key
	// gives an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)

	// List returns the names (not full keys) of the immediate children of
	// dir, objects and sub-directories alike, sorted in byte order. A dir
	// that does not exist gives an empty list and nil; any other failure is
	// an error, never a silently empty list.
	List(ctx context.Context, dir string) ([]string, error)

	// Delete removes key and, when key is a directory, everything below it.
	// Deleting what does not exist is not an error.
	Delete(ctx context.Context, key string) error

	// String names the storage for logs and messages ("swift:cont/prefix"),
	// never with credentials.
	String() string
}

// Engine turns a source into one archive stream and back. Engine names are
// written into each backup's metadata and never reused for another format.
type Engine interface {
	// Name is the engine name as written in the layout and the metadata
	// ("tar"; "rsync" is upstream's shared name for rsync and rsyncv2).
	Name() string

	// Backup writes the archive of req.Path to out. It does not close out.
	Backup(ctx context.Context, req BackupRequest, out io.Writer) (Stats, error)

	// Restore reads one archive (one level) from in and applies it under
	// req.Dir. It must never create, change or remove anything outside
	// req.Dir, whatever the archive says; hostile or corrupt input is an
	// error, never a panic. An error caused by the archive itself wraps
	// ErrCorrupt, one for a member naming something outside req.Dir wraps
	// ErrUnsafePath; failures of in and of the file system wrap neither.
	Restore(ctx context.Context, req RestoreRequest, in io.Reader) (Stats, error)
}

// BackupRequest is what an Engine needs to archive one level.
type BackupRequest struct {
	// Path is the file or directory to back up. For a directory the archive
	// holds "." and what is below; for a file, its base name.
	Path string
	// Exclude holds shell glob patterns, as GNU tar's --exclude; Excluder
	// matches them.
	Exclude []string
	// Dereference is "", "soft", "hard" or "all", as upstream's
	// --dereference-symlink.
	Dereference string
	// PrevState is the engine metadata of the backup this level is taken
	// against; nil for a level 0.
	PrevState io.Reader
	// PrevMetadata is the metadata object of that backup (zero for a level
	// 0). An engine whose state is stored compressed, as upstream's rsync
	// engines do, reads its compression here; a block engine reads the
	// chain's block size (rsync_block_size), which later levels keep.
	PrevMetadata Metadata
	// Compression names the payload's compression ("gzip", ...); an engine
	// that compresses its state, as upstream's rsync engines do, uses it.
	Compression string
	// BlockSize is the block size a block engine uses for a new chain
	// (--rsync-block-size); 0 means the engine's default. Ignored by tar.
	BlockSize int
	// State receives this backup's engine metadata: the state after it, to
	// be stored as engine_metadata. Must not be nil.
	State io.Writer
	// Progress, when not nil, is called from the engine's goroutine as work
	// advances; it must be cheap.
	Progress func(Stats)
}

// RestoreRequest is what an Engine needs to apply one level.
type RestoreRequest struct {
	// Dir is the restore target; it exists.
	Dir string
	// Metadata is the level's metadata object; a block engine reads its
	// block size (rsync_block_size) here.
	Metadata Metadata
	// DryRun lists the archive to List instead of writing anything.
	DryRun bool
	List   io.Writer
	// Progress as in BackupRequest.
	Progress func(Stats)
}

// Stats counts what an engine did.
type Stats struct {
	Files    int64 // regular files written or read
	Dirs     int64
	Links    int64 // symlinks and hard links
	Bytes    int64 // file content bytes
	Deleted  int64 // entries removed on restore because a level's dumpdir no longer lists them
	Warnings []string
	// BlockSize is the block size a block engine's backup used; the agent
	// records it in the metadata (rsync_block_size) as upstream does.
	BlockSize int
}

// PayloadCompressor is implemented by an engine whose payload uses its own
// stream for a compression name: upstream's rsync engines write a zlib
// stream where the metadata says "gzip". ok false means the common codec.
// The agent asks it for backup and restore alike, so the name in the
// metadata stays upstream's.
type PayloadCompressor interface {
	PayloadCompressor(name string) (c Codec, ok bool)
}

// Codec is one stream transform in the chain between engine and storage:
// a compressor, or an encryption format already holding its key material.
// Backup composes engine → compress → encrypt → storage; restore is the
// mirror, with the codec names read from the backup's metadata.
type Codec interface {
	// Name is the name recorded in the metadata ("gzip", "zstd", ...).
	Name() string
	// Encode returns a writer whose encoded output goes to w. Close must be
	// called to flush; it does not close w.
	Encode(w io.Writer) (io.WriteCloser, error)
	// Decode returns a reader of the decoded content of r. Corrupt,
	// truncated or tampered input is a Read error, never a panic. Close
	// releases resources; it does not close r.
	Decode(r io.Reader) (io.ReadCloser, error)
}
