package rsync

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/codec"
)

// DefaultBlockSize is upstream's --rsync-block-size default.
const DefaultBlockSize = 4096

// Limits on the block size a chain may use: below 512 the signatures
// outgrow the data, above 1 MiB one changed byte stores a megabyte.
const (
	minBlockSize = 512
	maxBlockSize = 1 << 20
)

// structVersion is the rsync_struct_ver we write and read.
const structVersion = 2

// chunkSize is how much of a file is read, hashed and written at once: a
// whole number of blocks of about this size.
const chunkSize = 1 << 20

// Options configures the engine.
type Options struct {
	// TempDir holds the engine's scratch files (the header list and
	// signatures of one run, which are as large as the tree's
	// engine_metadata); "" means os.TempDir().
	TempDir string
	// Workers is how many goroutines hash blocks; 0 means GOMAXPROCS.
	Workers int
	// Now returns the current time (see recentMargin); nil means
	// time.Now.
	Now func() time.Time
}

// recentMargin: a file whose ctime is this close to the start of a backup
// may change again within the same tick of the coarse file-time clock
// without its ctime moving, so its state records no ctime and the next
// level compares its blocks instead of trusting its times.
const recentMargin = time.Second

// Engine is the "rsync" engine (upstream's rsyncv2). It is safe for
// concurrent use: each Backup and Restore call has its own state.
type Engine struct {
	tempDir string
	workers int
	now     func() time.Time
	// betweenPasses, when set, runs after a backup's first pass; tests
	// change files there.
	betweenPasses func()
}

var (
	_ backup.Engine            = (*Engine)(nil)
	_ backup.PayloadCompressor = (*Engine)(nil)
)

// New returns an rsync engine.
func New(opts Options) *Engine {
	e := &Engine{tempDir: opts.TempDir, workers: opts.Workers, now: opts.Now}
	if e.now == nil {
		e.now = time.Now
	}
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	return e
}

// Name returns "rsync": upstream writes both rsync engines under that name.
func (e *Engine) Name() string { return "rsync" }

// PayloadCompressor makes "gzip" a zlib stream, as upstream's
// zlib.compressobj writes it, and tells the openssl format's key check
// that an uncompressed payload starts with a msgpack list, not a tar
// header; the other names use the common codecs.
func (e *Engine) PayloadCompressor(name string) (backup.Codec, bool) {
	var c backup.Codec
	var err error
	stream := ""
	switch name {
	case codec.Gzip:
		c, err = codec.Compressor(codec.Zlib)
		stream = codec.Zlib
	case codec.None:
		c, err = codec.Compressor(codec.None)
		stream = codec.MsgpackList
	default:
		return nil, false
	}
	if err != nil {
		return nil, false
	}
	return renamed{Codec: c, name: name, stream: stream}, true
}

// renamed is a codec recorded in the metadata under another name, or
// whose stream starts otherwise than its name says.
type renamed struct {
	backup.Codec
	name, stream string
}

func (r renamed) Name() string { return r.name }

// Stream names the stream written, for a format that checks it after
// decryption (openssl).
func (r renamed) Stream() string { return r.stream }

// stateCodec returns the compressor of an engine_metadata: upstream
// compresses it in one shot with the payload's algorithm, zlib for "gzip".
func stateCodec(name string) (backup.Codec, error) {
	if name == "" {
		name = codec.Gzip
	}
	if name == codec.Gzip {
		name = codec.Zlib
	}
	var o codec.CompressOptions
	if name == codec.Zstd {
		// zstd's fastest level stores a block without matches raw, and
		// the state is mostly such blocks: sha1 hex digests, which
		// entropy coding nearly halves (tools/bench/README.md has the
		// figures). The state is compressed once per run, so the slower
		// level costs little.
		o.Level = stateZstdLevel
	}
	c, err := codec.NewCompressor(name, o)
	if err != nil {
		return nil, fmt.Errorf("engine state compression: %w", err)
	}
	return c, nil
}

// stateZstdLevel is the zstd level of an engine_metadata: the lowest at
// which klauspost/compress entropy-codes blocks without matches.
const stateZstdLevel = 3

// tempFile creates an unlinked scratch file.
func (e *Engine) tempFile() (*os.File, error) {
	f, err := os.CreateTemp(e.tempDir, "freezer-rsync-*")
	if err != nil {
		return nil, fmt.Errorf("creating a scratch file: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

// File type bits of st_mode.
const (
	sIFMT   = 0o170000
	sIFSOCK = 0o140000
	sIFLNK  = 0o120000
	sIFREG  = 0o100000
	sIFBLK  = 0o060000
	sIFDIR  = 0o040000
	sIFCHR  = 0o020000
	sIFIFO  = 0o010000
)

func isReg(mode uint32) bool { return mode&sIFMT == sIFREG }
func isDir(mode uint32) bool { return mode&sIFMT == sIFDIR }
func isLnk(mode uint32) bool { return mode&sIFMT == sIFLNK }
