package codec

import (
	stdbzip2 "compress/bzip2"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	"github.com/ulikunitz/xz"
	xzdec "github.com/xi2/xz"

	"freezer.dev/freezer/freezer/backup"
)

// Defaults chosen to match what upstream's CLI tools produce, so that a
// backup made by us is about the size one made by the Python agent is.
const (
	defaultGzipLevel  = 6 // gzip(1)'s default, what `tar -z` uses
	defaultZlibLevel  = 6
	defaultBzip2Level = 9 // bzip2(1)'s default, what `tar -j` uses
	defaultZstdLevel  = 1 // zstd -1: the fast end, which the benchmarks target

	// gzipBlockSize is the unit pgzip compresses in parallel; 1 MiB keeps
	// the ratio within a fraction of a percent of gzip(1)'s.
	gzipBlockSize = 1 << 20
	// bzip2MemberSize is the input per independent bzip2 stream: ten
	// 900 kB blocks, so splitting costs nothing in ratio (bzip2 blocks are
	// independent anyway) while each worker has enough to do.
	bzip2MemberSize = 9 * 900_000
	// xzMemberSize is the input per independent xz stream; large enough
	// that the dictionary (8 MiB by default) is well used.
	xzMemberSize = 8 << 20
	// zstdMaxWindow bounds what a hostile zstd frame header can make the
	// decoder allocate; 128 MiB is zstd(1)'s own default decoding limit.
	zstdMaxWindow = 128 << 20
	// zstdParallelFrom is the concurrency from which zstd compresses one
	// stream on several cores. Below it the encoder still compresses
	// asynchronously (one block in flight while the caller fills the
	// next), which on two cores measured faster, at a tenth of the memory,
	// than splitting the stream into jobs.
	zstdParallelFrom = 4
)

func concurrency(o CompressOptions) int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return runtime.GOMAXPROCS(0)
}

func levelOr(o CompressOptions, def, max int) (int, error) {
	if o.Level == 0 {
		return def, nil
	}
	if o.Level > max {
		return 0, fmt.Errorf("level %d out of range 1-%d", o.Level, max)
	}
	return o.Level, nil
}

// gzipCodec writes one standard gzip member, compressed in parallel
// blocks by pgzip; gzip(1), GNU tar -z and Python's gzip module read it.
type gzipCodec struct{ level, conc int }

func newGzip(o CompressOptions) (backup.Codec, error) {
	l, err := levelOr(o, defaultGzipLevel, 9)
	if err != nil {
		return nil, err
	}
	return gzipCodec{level: l, conc: concurrency(o)}, nil
}

func (gzipCodec) Name() string { return Gzip }

func (c gzipCodec) Encode(w io.Writer) (io.WriteCloser, error) {
	zw, err := pgzip.NewWriterLevel(w, c.level)
	if err != nil {
		return nil, fmt.Errorf("starting gzip writer: %w", err)
	}
	if err := zw.SetConcurrency(gzipBlockSize, c.conc); err != nil {
		return nil, fmt.Errorf("starting gzip writer: %w", err)
	}
	return wrapWriter(zw, "gzip"), nil
}

func (gzipCodec) Decode(r io.Reader) (io.ReadCloser, error) {
	// pgzip's reader inflates ahead in its own goroutine, overlapping
	// decompression with whatever consumes the stream.
	zr, err := pgzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading gzip header: %w", noEOF(err))
	}
	return wrapReader(zr, zr.Close, "gzip"), nil
}

// zlibCodec is the zlib container upstream's rsync engines use.
type zlibCodec struct{ level int }

func newZlib(o CompressOptions) (backup.Codec, error) {
	l, err := levelOr(o, defaultZlibLevel, 9)
	if err != nil {
		return nil, err
	}
	return zlibCodec{level: l}, nil
}

func (zlibCodec) Name() string { return Zlib }

func (c zlibCodec) Encode(w io.Writer) (io.WriteCloser, error) {
	zw, err := zlib.NewWriterLevel(w, c.level)
	if err != nil {
		return nil, fmt.Errorf("starting zlib writer: %w", err)
	}
	return wrapWriter(zw, "zlib"), nil
}

func (zlibCodec) Decode(r io.Reader) (io.ReadCloser, error) {
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading zlib header: %w", noEOF(err))
	}
	return wrapReader(zr, zr.Close, "zlib"), nil
}

// bzip2Codec writes concatenated bzip2 streams compressed in parallel, as
// pbzip2 does; bzip2(1), GNU tar -j and Python's bz2 module read all of
// them.
type bzip2Codec struct{ level, conc, memberSize int }

func newBzip2(o CompressOptions) (backup.Codec, error) {
	l, err := levelOr(o, defaultBzip2Level, 9)
	if err != nil {
		return nil, err
	}
	return bzip2Codec{level: l, conc: concurrency(o), memberSize: bzip2MemberSize}, nil
}

func (bzip2Codec) Name() string { return Bzip2 }

func (c bzip2Codec) Encode(w io.Writer) (io.WriteCloser, error) {
	level := c.level
	return newMemberWriter(w, "bzip2", c.memberSize, c.conc, func(dst io.Writer) (io.WriteCloser, error) {
		return bzip2.NewWriter(dst, &bzip2.WriterConfig{Level: level})
	}), nil
}

// Decode uses the standard library's reader: it reads concatenated
// streams, and it measured as fast as dsnet's with a quarter of the memory.
func (bzip2Codec) Decode(r io.Reader) (io.ReadCloser, error) {
	cr := &countReader{r: r}
	nr := wrapReader(stdbzip2.NewReader(cr), nil, "bzip2").(*namedReader)
	nr.input = cr
	return nr, nil
}

// xzCodec writes concatenated xz streams compressed in parallel;
// xz(1), GNU tar -J and Python's lzma module read all of them.
type xzCodec struct{ conc, memberSize int }

func newXz(o CompressOptions) (backup.Codec, error) {
	return xzCodec{conc: concurrency(o), memberSize: xzMemberSize}, nil
}

func (xzCodec) Name() string { return Xz }

func (c xzCodec) Encode(w io.Writer) (io.WriteCloser, error) {
	return newMemberWriter(w, "xz", c.memberSize, c.conc, func(dst io.Writer) (io.WriteCloser, error) {
		return xz.WriterConfig{}.NewWriter(dst)
	}), nil
}

// xzDictMax bounds the LZMA2 dictionary a stream may ask for: 64 MiB is
// what xz -9 (the largest preset) uses; Python's lzma writes 8 MiB. The
// dictionary is the decoder's whole memory, and a header can ask for up
// to 4 GiB.
const xzDictMax = 64 << 20

// Decode uses xi2/xz (a port of XZ Embedded): unlike ulikunitz/xz, whose
// reader allocates whatever dictionary a stream header names, it refuses
// a dictionary over xzDictMax; it was also faster (tools/bench/README.md).
func (xzCodec) Decode(r io.Reader) (io.ReadCloser, error) {
	zr, err := xzdec.NewReader(r, xzDictMax)
	if err != nil {
		return nil, fmt.Errorf("reading xz header: %w", xzError(noEOF(err)))
	}
	return wrapReader(xzReader{zr}, nil, "xz"), nil
}

// xzReader explains the one xz error that is a limit, not corruption.
type xzReader struct{ r *xzdec.Reader }

func (x xzReader) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	return n, xzError(err)
}

func xzError(err error) error {
	if errors.Is(err, xzdec.ErrMemlimit) {
		return fmt.Errorf("%w: the stream needs a dictionary over %d MiB, more than xz -9 uses; refused to keep memory bounded", err, xzDictMax>>20)
	}
	return err
}

// zstdCodec writes one zstd frame, with blocks compressed concurrently.
type zstdCodec struct{ level, conc int }

func newZstd(o CompressOptions) (backup.Codec, error) {
	l, err := levelOr(o, defaultZstdLevel, 22)
	if err != nil {
		return nil, err
	}
	return zstdCodec{level: l, conc: concurrency(o)}, nil
}

func (zstdCodec) Name() string { return Zstd }

func (c zstdCodec) Encode(w io.Writer) (io.WriteCloser, error) {
	opts := []zstd.EOption{
		zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(c.level)),
		zstd.WithEncoderConcurrency(c.conc),
	}
	if c.conc >= zstdParallelFrom {
		// Job-parallel compression of one frame: each job is 4 windows of
		// input, so a 1 MiB window bounds the buffers to a few MiB per
		// worker instead of ~50 MiB with the default window.
		opts = append(opts, zstd.WithConcurrentBlocks(true), zstd.WithWindowSize(1<<20))
	}
	zw, err := zstd.NewWriter(w, opts...)
	if err != nil {
		return nil, fmt.Errorf("starting zstd writer: %w", err)
	}
	return wrapWriter(zw, "zstd"), nil
}

func (zstdCodec) Decode(r io.Reader) (io.ReadCloser, error) {
	// The zstd decoder takes an empty input for an empty stream; a backup
	// payload is never empty, so that is a truncation.
	cr := &countReader{r: r}
	d, err := zstd.NewReader(cr, zstd.WithDecoderMaxWindow(zstdMaxWindow))
	if err != nil {
		return nil, fmt.Errorf("starting zstd reader: %w", err)
	}
	nr := wrapReader(d, func() error { d.Close(); return nil }, "zstd").(*namedReader)
	nr.input = cr
	return nr, nil
}

// noneCodec passes the stream through unchanged.
type noneCodec struct{}

func (noneCodec) Name() string { return None }

func (noneCodec) Encode(w io.Writer) (io.WriteCloser, error) { return nopWriteCloser{w}, nil }

func (noneCodec) Decode(r io.Reader) (io.ReadCloser, error) { return io.NopCloser(r), nil }

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
