package tar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/internal/readerr"
)

// corruptError marks err as backup.ErrCorrupt without changing its message.
type corruptError struct{ err error }

func (e *corruptError) Error() string   { return e.err.Error() }
func (e *corruptError) Unwrap() []error { return []error{backup.ErrCorrupt, e.err} }

func corrupt(err error) error { return &corruptError{err: err} }

func corruptf(format string, args ...any) error { return corrupt(fmt.Errorf(format, args...)) }

// inputRecorder remembers the first error of the stream the archive is
// read from. archive/tar reports a bad archive and a failing input alike
// (a cut input is an io.ErrUnexpectedEOF, some sparse-map errors are not
// even exported), so an archive reader error counts as corruption only
// when the input itself did not fail.
type inputRecorder struct{ *readerr.Reader }

// archiveErr classifies err, returned by the archive reader.
func (in inputRecorder) archiveErr(err error) error {
	if in.Err() != nil {
		return err
	}
	return corrupt(err)
}

// memberReader reads the members of a stream of one or more archives, as
// "gnutar --ignore-zeros" (which upstream passes) does: zero blocks after
// an archive's end are skipped and a following archive is read too. It
// reads the stream to its end, so that codecs below can verify their
// trailers and authentication tags.
type memberReader struct {
	in inputRecorder
	br *bufio.Reader
	zt *zeroTracker
	tr *tar.Reader // reads the data of the member next returned
}

func newMemberReader(in inputRecorder, bufSize int) *memberReader {
	m := &memberReader{in: in, br: bufio.NewReaderSize(in, bufSize)}
	m.start()
	return m
}

func (m *memberReader) start() {
	m.zt = &zeroTracker{r: m.br}
	m.tr = tar.NewReader(m.zt)
}

// next returns the next member, or io.EOF at the end of the stream.
func (m *memberReader) next() (*tar.Header, error) {
	for {
		hdr, err := m.tr.Next()
		if err != io.EOF {
			if err != nil {
				return nil, fmt.Errorf("reading archive: %w", m.in.archiveErr(err))
			}
			return hdr, nil
		}
		if !m.zt.sawEnd() {
			return nil, m.in.archiveErr(errors.New("archive is truncated: no end-of-archive marker"))
		}
		more, err := skipZeroBlocks(m.br)
		if err != nil {
			return nil, err
		}
		if !more {
			return nil, io.EOF
		}
		m.start()
	}
}

// skipZeroBlocks consumes zero blocks and reports whether a non-zero
// block (another archive) follows.
func skipZeroBlocks(br *bufio.Reader) (bool, error) {
	for {
		b, err := br.Peek(blockSize)
		if len(b) == blockSize {
			if !bytes.Equal(b, zeroGranule[:blockSize]) {
				return true, nil
			}
			br.Discard(blockSize)
			continue
		}
		if err != nil && err != io.EOF {
			return false, fmt.Errorf("reading after the end of the archive: %w", err)
		}
		if !bytes.Equal(b, zeroGranule[:len(b)]) {
			return false, corruptf("garbage after the end of the archive")
		}
		return false, nil
	}
}

// zeroTracker remembers how many zero bytes the archive reader consumed
// last, to tell an archive ending with its end-of-archive blocks from one
// cut at a member boundary (which archive/tar reports as a plain EOF).
type zeroTracker struct {
	r     io.Reader
	zeros int64
}

func (z *zeroTracker) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if n > 0 {
		i := n
		for i > 0 && p[i-1] == 0 {
			i--
		}
		if i == 0 {
			z.zeros += int64(n)
		} else {
			z.zeros = int64(n - i)
		}
	}
	return n, err
}

func (z *zeroTracker) sawEnd() bool { return z.zeros >= blockSize }
