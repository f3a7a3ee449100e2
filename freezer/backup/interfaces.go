package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
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
	// Paths, when not empty, restores only the members whose path
	// (relative, as cleaned: "etc/hosts") matches one of these shell
	// globs (path.Match), or lies below a directory that does, and the
	// directories above them. Deletions a level's listings order apply
	// to matching paths only. The whole stream is still read: its checks
	// need every byte.
	Paths []string
	// Visit, when not nil with DryRun, is called for each member in
	// archive order instead of writing to List; an error stops Restore.
	Visit func(Entry) error
	// Verify, when not nil, says that in is checked only as a whole, after
	// its last byte (a checksum of the stored stream): Restore then puts
	// no name in place while it reads. Every file, link and symbolic link
	// is made under a temporary name beside its own, and once the archive
	// has been read to its end Restore calls Verify; only if Verify
	// returns nil are the temporary names renamed into place. Otherwise,
	// and on any other failure, they are removed, so the target keeps
	// what it held before or nothing, never content from unverified
	// bytes. Directories and deletions a level's listings order are
	// applied as they are read.
	//
	// When nil, in is taken to release only verified bytes (an
	// authenticated format): files are written in place, and a file cut
	// short by a failure is removed.
	Verify func() error
}

// Entry is an archive member as a dry-run Restore sees it.
type Entry struct {
	Path     string // relative to the target, "" for the target itself
	Type     byte   // '-' file, 'd' directory, 'l' symbolic link, 'h' hard link, 'c', 'b', 'p'
	Size     int64
	Mode     int64 // permission and special bits
	Uid, Gid int
	Uname    string
	Gname    string
	ModTime  time.Time
	Linkname string
	// Listing, for a directory of an incremental level, holds the names
	// the directory has at this level (in this archive or unchanged
	// since the level before); what the target holds beyond them is
	// deleted by a restore. Nil when the archive does not say.
	Listing []string
}

// NotRestoredError is returned by Engine.Restore when it fails after
// having started to apply an archive: it names the members whose content
// was not put in place. Err is the failure; Unwrap returns it, so its
// kinds (ErrCorrupt, a caller's own) still match.
type NotRestoredError struct {
	// Paths are members (relative to the target) that were read, in
	// whole or in part, and not put in place, in archive order.
	Paths []string
	// Omitted counts further members not restored and not in Paths, for
	// an engine that bounds the list it keeps.
	Omitted int
	// Unread reports that the members after the failure were not read
	// either, and so not restored.
	Unread bool
	Err    error
}

// maxNamed bounds the paths an error message lists.
const maxNamed = 10

func (e *NotRestoredError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if len(e.Paths) > 0 {
		b.WriteString("; not restored: ")
		for i, p := range e.Paths[:min(len(e.Paths), maxNamed)] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(p))
		}
		if n := max(len(e.Paths)-maxNamed, 0) + e.Omitted; n > 0 {
			fmt.Fprintf(&b, " and %d more", n)
		}
		if e.Unread {
			b.WriteString(", nor any member after them")
		}
	} else if e.Unread {
		b.WriteString("; no member after this point was restored")
	}
	return b.String()
}

func (e *NotRestoredError) Unwrap() error { return e.Err }

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
