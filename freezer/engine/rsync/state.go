package rsync

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
)

// The engine_metadata (state) is upstream's, one msgpack map compressed in
// one shot with the payload's algorithm:
//
//	{"rsync_struct_ver": 2, "rsync_block_size": bs, "platform": "linux",
//	 "abs_backup_path": "/src",
//	 "files": {relpath: {"mode": st_mode, "ctime": float, "mtime": float,
//	                     "signature": [[adler32, ...], [sha1 hex, ...]]}}}
//
// Regular files carry a signature; directories, links and devices do not.
// We add "ctime_ns" and "mtime_ns" so that change detection is exact, and
// write "files" last and in the engine's walk order (pathCompare), which is
// what lets a later level read it in step with its own walk.

// pathCompare orders paths as a depth-first walk that visits names in byte
// order does: component by component, a parent before its children.
func pathCompare(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x == '/' {
			return -1
		}
		if y == '/' {
			return 1
		}
		if x < y {
			return -1
		}
		return 1
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// oldFile is one entry of a previous state.
type oldFile struct {
	path             string
	mode             uint32
	ctime, mtime     float64
	ctimeNs, mtimeNs int64 // 0 when the state has no _ns keys
	sigOff           int64 // offset of the signature value; -1 = none
}

// oldState reads a previous engine_metadata, decompressed into a scratch
// file, one file entry at a time.
type oldState struct {
	f         *os.File
	blockSize int
	files     *mpReader
	left      int64 // entries not yet read
	prev      string
	cur       *oldFile // the entry next returns, nil at the end
	started   bool
	// order, for a state not written in walk order (by the Python agent),
	// holds the offsets of its entries sorted by path; nil for ours, which
	// are read as they come.
	order []int64
}

// indexEntry locates one entry of a foreign state.
type indexEntry struct {
	path string
	off  int64
}

// openOldState decompresses r into f and positions at the files map.
func openOldState(r io.Reader, dec func(io.Reader) (io.ReadCloser, error), f *os.File) (*oldState, error) {
	d, err := dec(r)
	if err != nil {
		return nil, fmt.Errorf("decompressing the previous engine state: %w", err)
	}
	_, err = io.Copy(f, d)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("decompressing the previous engine state: %w", err)
	}
	s := &oldState{f: f}
	top := newMPReader(io.NewSectionReader(f, 0, math.MaxInt64), 0)
	n, err := top.readMapHeader()
	if err != nil {
		return nil, fmt.Errorf("previous engine state: %w", err)
	}
	filesOff := int64(-1)
	ver := int64(0)
	for range n {
		k, err := top.readString()
		if err != nil {
			return nil, fmt.Errorf("previous engine state: %w", err)
		}
		switch k {
		case "files":
			filesOff = top.off
			err = top.skip()
		case "rsync_block_size":
			var v int64
			v, err = top.readInt()
			s.blockSize = int(v)
		case "rsync_struct_ver":
			ver, err = top.readInt()
		default:
			err = top.skip()
		}
		if err != nil {
			return nil, fmt.Errorf("previous engine state, key %q: %w", k, err)
		}
	}
	if ver != structVersion {
		return nil, fmt.Errorf("previous engine state has rsync_struct_ver %d; only %d is read", ver, structVersion)
	}
	if s.blockSize < minBlockSize || s.blockSize > maxBlockSize {
		return nil, fmt.Errorf("previous engine state has block size %d, outside %d..%d", s.blockSize, minBlockSize, maxBlockSize)
	}
	if filesOff < 0 {
		return nil, fmt.Errorf("previous engine state has no files")
	}
	s.files = newMPReader(io.NewSectionReader(f, filesOff, math.MaxInt64-filesOff), filesOff)
	if s.left, err = s.files.readMapHeader(); err != nil {
		return nil, fmt.Errorf("previous engine state: %w", err)
	}
	return s, s.indexIfUnsorted()
}

// indexIfUnsorted checks that the entries are in walk order. If they are
// not (upstream writes os.walk order), it builds an index sorted by path,
// so a chain the Python agent started can be continued; that index is the
// one part of a state held in memory, and only for foreign states.
func (s *oldState) indexIfUnsorted() error {
	// scan calls fn with each entry's path and offset, in stored order.
	scan := func(fn func(p string, off int64)) error {
		m := newMPReader(io.NewSectionReader(s.f, s.files.off, math.MaxInt64-s.files.off), s.files.off)
		for range s.left {
			off := m.off
			p, err := m.readString()
			if err != nil {
				return fmt.Errorf("previous engine state: %w", err)
			}
			if err := m.skip(); err != nil {
				return fmt.Errorf("previous engine state, %q: %w", p, err)
			}
			fn(p, off)
		}
		return nil
	}
	sorted, first, prev := true, true, ""
	err := scan(func(p string, _ int64) {
		if !first && pathCompare(prev, p) >= 0 {
			sorted = false
		}
		first, prev = false, p
	})
	if err != nil || sorted {
		return err
	}
	var idx []indexEntry
	if err := scan(func(p string, off int64) { idx = append(idx, indexEntry{p, off}) }); err != nil {
		return err
	}
	slices.SortFunc(idx, func(a, b indexEntry) int { return pathCompare(a.path, b.path) })
	s.order = make([]int64, len(idx))
	for i, e := range idx {
		if i > 0 && idx[i-1].path == e.path {
			return fmt.Errorf("previous engine state lists %q twice", e.path)
		}
		s.order[i] = e.off
	}
	return nil
}

// peek returns the next entry without consuming it; nil at the end.
func (s *oldState) peek() (*oldFile, error) {
	if s == nil {
		return nil, nil
	}
	if s.cur != nil || s.left == 0 {
		return s.cur, nil
	}
	s.left--
	m := s.files
	if s.order != nil {
		off := s.order[0]
		s.order = s.order[1:]
		m = newMPReaderSize(io.NewSectionReader(s.f, off, math.MaxInt64-off), off, 4<<10)
	}
	p, err := m.readString()
	if err != nil {
		return nil, fmt.Errorf("previous engine state: %w", err)
	}
	if s.started && pathCompare(s.prev, p) >= 0 {
		return nil, fmt.Errorf("previous engine state lists %q after %q: it was not written by this engine (in walk order), so levels cannot be taken against it", p, s.prev)
	}
	s.started, s.prev = true, p
	o := &oldFile{path: p, sigOff: -1}
	n, err := m.readMapHeader()
	if err != nil {
		return nil, fmt.Errorf("previous engine state, %q: %w", p, err)
	}
	for range n {
		k, err := m.readString()
		if err == nil {
			switch k {
			case "mode":
				var v int64
				v, err = m.readInt()
				o.mode = uint32(v)
			case "ctime":
				o.ctime, err = m.readFloat()
			case "mtime":
				o.mtime, err = m.readFloat()
			case "ctime_ns":
				o.ctimeNs, err = m.readInt()
			case "mtime_ns":
				o.mtimeNs, err = m.readInt()
			case "signature":
				o.sigOff = m.off
				err = m.skip()
			default:
				err = m.skip()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("previous engine state, %q: %w", p, err)
		}
	}
	s.cur = o
	return o, nil
}

func (s *oldState) next() { s.cur = nil }

// sigs opens the old signature of o as a stream of block sums.
func (s *oldState) sigs(o *oldFile) (*oldSigs, error) {
	if o.sigOff < 0 {
		return &oldSigs{}, nil
	}
	m := newMPReaderSize(io.NewSectionReader(s.f, o.sigOff, math.MaxInt64-o.sigOff), o.sigOff, 4<<10)
	if n, err := m.readArrayHeader(); err != nil || n != 2 {
		return nil, fmt.Errorf("previous engine state, signature of %q: want [weak, strong] (%v)", o.path, err)
	}
	nw, err := m.readArrayHeader()
	if err != nil {
		return nil, fmt.Errorf("previous engine state, signature of %q: %w", o.path, err)
	}
	weakOff := m.off
	for range nw {
		if err := m.skip(); err != nil {
			return nil, fmt.Errorf("previous engine state, signature of %q: %w", o.path, err)
		}
	}
	ns, err := m.readArrayHeader()
	if err != nil || ns != nw {
		return nil, fmt.Errorf("previous engine state, signature of %q: %d weak sums, %d strong (%v)", o.path, nw, ns, err)
	}
	strongOff := m.off
	return &oldSigs{
		n:      nw,
		weak:   newMPReaderSize(io.NewSectionReader(s.f, weakOff, math.MaxInt64-weakOff), weakOff, int(min(nw, 1<<16))*5),
		strong: newMPReaderSize(io.NewSectionReader(s.f, strongOff, math.MaxInt64-strongOff), strongOff, int(min(nw, 1<<16))*42),
	}, nil
}

// oldSigs streams one file's old signatures.
type oldSigs struct {
	n, i         int64
	weak, strong *mpReader
}

func (o *oldSigs) next() (blockSum, error) {
	var b blockSum
	w, err := o.weak.readInt()
	if err != nil {
		return b, err
	}
	h, err := o.strong.readString()
	if err != nil {
		return b, err
	}
	if len(h) != 2*len(b.strong) {
		return b, fmt.Errorf("strong sum %q is not a SHA-1", h)
	}
	if _, err := hex.Decode(b.strong[:], []byte(h)); err != nil {
		return b, err
	}
	b.weak = uint32(w)
	o.i++
	return b, nil
}

// stateRecord is one entry of the new state, kept in a scratch file in walk
// order until the state is composed.
type stateRecord struct {
	path             string
	mode             uint32
	ctimeNs, mtimeNs int64
	sigSlot          int64 // first slot in the signature store; -1 = no signature
	blocks           int64
}

func writeRecord(w *mpWriter, r stateRecord) {
	w.arrayHeader(6)
	w.str(r.path)
	w.int(int64(r.mode))
	w.int(r.ctimeNs)
	w.int(r.mtimeNs)
	w.int(r.sigSlot)
	w.int(r.blocks)
}

func readRecord(m *mpReader) (stateRecord, error) {
	var r stateRecord
	if n, err := m.readArrayHeader(); err != nil || n != 6 {
		return r, fmt.Errorf("scratch state record: %v", err)
	}
	var err error
	var v [5]int64
	if r.path, err = m.readString(); err != nil {
		return r, err
	}
	for i := range v {
		if v[i], err = m.readInt(); err != nil {
			return r, err
		}
	}
	r.mode, r.ctimeNs, r.mtimeNs, r.sigSlot, r.blocks = uint32(v[0]), v[1], v[2], v[3], v[4]
	return r, nil
}

func nsFloat(ns int64) float64 { return float64(ns) / 1e9 }

// composeState writes the engine_metadata from the run's scratch records
// (count of them in recs) and signature store, streaming: neither is held
// in memory.
func composeState(w io.Writer, absPath string, bs int, recs io.Reader, count int64, sigs io.ReaderAt) error {
	m := newMPWriter(w)
	m.mapHeader(5)
	m.str("rsync_struct_ver")
	m.int(structVersion)
	m.str("rsync_block_size")
	m.int(int64(bs))
	m.str("platform")
	m.str(runtime.GOOS)
	m.str("abs_backup_path")
	m.str(absPath)
	m.str("files")
	m.lenHeader(int(count), 0x80, 15, 0, 0xde, 0xdf)
	rr := newMPReader(recs, 0)
	var hexbuf [2 * slotSize]byte
	sr := bufio.NewReaderSize(nil, 64<<10) // reset for each file's signatures
	for range count {
		r, err := readRecord(rr)
		if err != nil {
			return fmt.Errorf("reading scratch state: %w", err)
		}
		m.str(r.path)
		n := 5
		if r.sigSlot >= 0 {
			n++
		}
		m.mapHeader(n)
		m.str("mode")
		m.int(int64(r.mode))
		m.str("ctime")
		m.float(nsFloat(r.ctimeNs))
		m.str("mtime")
		m.float(nsFloat(r.mtimeNs))
		m.str("ctime_ns")
		m.int(r.ctimeNs)
		m.str("mtime_ns")
		m.int(r.mtimeNs)
		if r.sigSlot < 0 {
			continue
		}
		m.str("signature")
		m.arrayHeader(2)
		for pass := 0; pass < 2; pass++ {
			m.arrayHeader(int(r.blocks))
			sr.Reset(io.NewSectionReader(sigs, r.sigSlot*slotSize, r.blocks*slotSize))
			var slot [slotSize]byte
			for range r.blocks {
				if _, err := io.ReadFull(sr, slot[:]); err != nil {
					return fmt.Errorf("reading scratch signatures: %w", err)
				}
				b := getSum(slot[:])
				if pass == 0 {
					m.int(int64(b.weak))
				} else {
					hex.Encode(hexbuf[:], b.strong[:])
					m.str(string(hexbuf[:2*len(b.strong)]))
				}
			}
		}
		if m.err != nil {
			return m.err
		}
	}
	return m.flush()
}
