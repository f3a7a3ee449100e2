package tar

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
)

// snapshotMagic starts every snapshot file we write: GNU tar's incremental
// format 2, under the GNU tar version the upstream agent ran.
const snapshotMagic = "GNU tar-1.34-2\n"

// maxSnapshotField bounds one NUL-terminated field of a snapshot file so a
// corrupt file cannot make us buffer without limit.
const maxSnapshotField = 1 << 20

// snapshot is a parsed GNU tar snapshot file (incremental format 2).
type snapshot struct {
	start time.Time // when the previous backup started: the "newer than" threshold
	dirs  map[string]*dirRecord
}

// dirRecord is one directory of a snapshot.
type dirRecord struct {
	nfs   bool
	mtime time.Time
	dev   uint64
	ino   uint64
	// contents is the dumpdir: entries of a flag byte ('Y', 'N', 'D') and
	// a name, each NUL-terminated.
	contents []byte
}

// entries returns the sorted names of the dumpdir and their flags.
func (d *dirRecord) entries() (names []string, flags []byte) {
	for p := d.contents; len(p) > 0; {
		i := bytes.IndexByte(p, 0)
		if i < 0 {
			i = len(p)
		}
		if i > 1 {
			names = append(names, string(p[1:i]))
			flags = append(flags, p[0])
		}
		if i == len(p) {
			break
		}
		p = p[i+1:]
	}
	if !sort.StringsAreSorted(names) {
		idx := make([]int, len(names))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return names[idx[a]] < names[idx[b]] })
		n2 := make([]string, len(names))
		f2 := make([]byte, len(names))
		for i, j := range idx {
			n2[i], f2[i] = names[j], flags[j]
		}
		names, flags = n2, f2
	}
	return names, flags
}

// readSnapshot parses a snapshot file as GNU tar's read_incr_db_2 does.
// An empty file gives a nil snapshot: nothing is known, save everything.
func readSnapshot(r io.Reader) (*snapshot, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) == 0 {
			// GNU tar takes an empty snapshot file for a level 0; so do
			// we: a full backup is always safe.
			return nil, nil
		}
		return nil, fmt.Errorf("reading snapshot file header: %w", err)
	}
	if !bytes.HasPrefix(line, []byte("GNU tar-")) {
		return nil, fmt.Errorf("reading snapshot file: not a GNU tar snapshot (header %.40q)", line)
	}
	ver := line[:len(line)-1]
	ver = ver[bytes.LastIndexByte(ver, '-')+1:]
	if string(ver) != "2" {
		return nil, fmt.Errorf("reading snapshot file: unsupported incremental format version %q (only 2 is supported)", ver)
	}
	p := &snapshotParser{br: br}
	sec, ok := p.num(true)
	nsec, ok2 := p.num(false)
	if !ok || !ok2 || nsec >= 1e9 {
		return nil, p.fail("invalid start time")
	}
	s := &snapshot{start: time.Unix(sec, nsec), dirs: map[string]*dirRecord{}}
	for {
		nfs, ok := p.num(false)
		if p.err != nil {
			return nil, p.err
		}
		if !ok {
			if p.eof {
				return s, nil
			}
			return nil, p.fail("invalid nfs flag")
		}
		d := &dirRecord{nfs: nfs == 1}
		msec, ok1 := p.num(true)
		mnsec, ok2 := p.num(false)
		dev, ok3 := p.unum()
		ino, ok4 := p.unum()
		if !ok1 || !ok2 || !ok3 || !ok4 || nfs > 1 || mnsec >= 1e9 {
			return nil, p.fail("invalid directory record")
		}
		d.mtime, d.dev, d.ino = time.Unix(msec, mnsec), dev, ino
		name, ok := p.field()
		if !ok {
			return nil, p.fail("truncated directory record")
		}
		var contents []byte
		for {
			f, ok := p.field()
			if !ok {
				return nil, p.fail("truncated directory record")
			}
			if len(f) == 0 {
				break
			}
			contents = append(contents, f...)
			contents = append(contents, 0)
		}
		// The record ends with one more NUL.
		if c, err := br.ReadByte(); err != nil || c != 0 {
			return nil, p.fail("missing record terminator")
		}
		d.contents = contents
		s.dirs[string(name)] = d
	}
}

type snapshotParser struct {
	br  *bufio.Reader
	off int64
	eof bool
	err error
}

func (p *snapshotParser) fail(what string) error {
	if p.err != nil {
		return fmt.Errorf("reading snapshot file at byte %d: %s: %w", p.off, what, p.err)
	}
	return fmt.Errorf("reading snapshot file at byte %d: %s", p.off, what)
}

// field reads one NUL-terminated field; the returned slice is only valid
// until the next call.
func (p *snapshotParser) field() ([]byte, bool) {
	var acc []byte
	for {
		b, err := p.br.ReadSlice(0)
		p.off += int64(len(b))
		if err == nil {
			if acc == nil {
				return b[:len(b)-1], true
			}
			acc = append(acc, b[:len(b)-1]...)
			return acc, true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			acc = append(acc, b...)
			if len(acc) > maxSnapshotField {
				p.err = errors.New("field too long")
				return nil, false
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(acc) == 0 && len(b) == 0 {
				p.eof = true
			} else {
				p.err = io.ErrUnexpectedEOF
			}
			return nil, false
		}
		p.err = err
		return nil, false
	}
}

func (p *snapshotParser) num(signed bool) (int64, bool) {
	f, ok := p.field()
	if !ok || len(f) == 0 || len(f) > 24 {
		return 0, false
	}
	if !signed && f[0] == '-' {
		return 0, false
	}
	v, err := strconv.ParseInt(string(f), 10, 64)
	return v, err == nil
}

func (p *snapshotParser) unum() (uint64, bool) {
	f, ok := p.field()
	if !ok || len(f) == 0 || len(f) > 24 {
		return 0, false
	}
	// GNU tar prints dev_t and ino_t through a signed conversion when the
	// value is large; accept both spellings.
	if f[0] == '-' {
		v, err := strconv.ParseInt(string(f), 10, 64)
		return uint64(v), err == nil
	}
	v, err := strconv.ParseUint(string(f), 10, 64)
	return v, err == nil
}

// snapshotWriter streams a snapshot file: the header first, then one
// record per directory as the backup finishes it.
type snapshotWriter struct {
	w   *bufio.Writer
	tmp []byte
}

func newSnapshotWriter(w io.Writer, start time.Time) *snapshotWriter {
	s := &snapshotWriter{w: bufio.NewWriterSize(w, 64<<10)}
	s.w.WriteString(snapshotMagic)
	s.int(start.Unix())
	s.int(int64(start.Nanosecond()))
	return s
}

func (s *snapshotWriter) int(v int64) {
	s.tmp = strconv.AppendInt(s.tmp[:0], v, 10)
	s.tmp = append(s.tmp, 0)
	s.w.Write(s.tmp)
}

// dir appends the record of one directory; dumpdir is the member's
// contents including its final NUL.
func (s *snapshotWriter) dir(name string, mtime time.Time, dev, ino uint64, dumpdir []byte) {
	s.w.WriteString("0\x00")
	s.int(mtime.Unix())
	s.int(int64(mtime.Nanosecond()))
	s.tmp = strconv.AppendUint(s.tmp[:0], dev, 10)
	s.tmp = append(s.tmp, 0)
	s.tmp = strconv.AppendUint(s.tmp, ino, 10)
	s.tmp = append(s.tmp, 0)
	s.w.Write(s.tmp)
	s.w.WriteString(name)
	s.w.WriteByte(0)
	// Entries, each NUL-terminated, then an empty entry, then the record
	// terminator: dumpdir already ends with the empty entry's NUL.
	if len(dumpdir) == 0 {
		s.w.WriteByte(0)
	} else {
		s.w.Write(dumpdir)
	}
	s.w.WriteByte(0)
}

func (s *snapshotWriter) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("writing snapshot file: %w", err)
	}
	return nil
}
