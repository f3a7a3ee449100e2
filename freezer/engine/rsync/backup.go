//go:build linux

package rsync

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"

	"freezer.dev/freezer/freezer/backup"
)

// Backup writes one level: the msgpack header list of what changed since
// req.PrevState, then the bytes of the regular files it names (whole files,
// or the changed blocks in index order), and the new state to req.State.
//
// The header must precede all data, so the run has two passes over the
// tree's changed files. The first walks the tree in step with the previous
// state, reads each changed file that has an old signature once to find
// its changed blocks, and spools the header entries, the new state's
// records and signatures to scratch files. The second stores the bytes
// and computes the signatures of exactly the bytes it stores, filling the
// slots the first pass reserved; a block that changes between the passes is
// thus stored and signed consistently. Memory stays bounded: nothing is
// held per file or per block except the current chunk.
func (e *Engine) Backup(ctx context.Context, req backup.BackupRequest, out io.Writer) (backup.Stats, error) {
	r := &backupRun{e: e, ctx: ctx, req: req, links: map[[2]uint64]string{}, unames: map[uint32]string{}, gnames: map[uint32]string{}}
	defer r.close()
	if err := r.run(out); err != nil {
		return r.stats, err
	}
	return r.stats, nil
}

type backupRun struct {
	e   *Engine
	ctx context.Context
	req backup.BackupRequest

	bs       int
	recent   int64  // ctimes from here on (ns) are not trusted next level
	srcDir   string // what entry paths are relative to
	excluded func(string) bool
	old      *oldState

	files []*os.File // scratch files, closed at the end

	hdrF   *os.File
	hdr    *mpWriter
	nHdr   int64
	jobsF  *os.File
	jobs   *mpWriter
	nJobs  int64
	recsF  *os.File
	recs   *mpWriter
	nRecs  int64
	idxF   *os.File
	idx    *bufio.Writer
	idxEnd int64 // indices written to idxF
	sigF   *os.File
	sigs   *sigStore
	sigEnd int64 // next free slot

	links          map[[2]uint64]string // (dev, ino) → first path, for nlink > 1
	unames, gnames map[uint32]string
	sums           []blockSum
	buf            []byte  // storeFile's chunk, reused across files
	first          []int64 // block indices of the blocks in buf
	stats          backup.Stats
}

func (r *backupRun) close() {
	for _, f := range r.files {
		f.Close()
	}
}

func (r *backupRun) scratch() (*os.File, error) {
	f, err := r.e.tempFile()
	if err == nil {
		r.files = append(r.files, f)
	}
	return f, err
}

func (r *backupRun) warnf(format string, args ...any) {
	r.stats.Warnings = append(r.stats.Warnings, fmt.Sprintf(format, args...))
}

func (r *backupRun) run(out io.Writer) error {
	req := r.req
	if req.State == nil {
		return errors.New("rsync backup: no state writer")
	}
	if req.Dereference != "" {
		r.warnf("the rsync engine stores symbolic links as links; --dereference-symlink %s is ignored", req.Dereference)
	}
	var err error
	if r.excluded, err = excludeMatcher(req.Exclude); err != nil {
		return err
	}
	r.bs = req.BlockSize
	if r.bs == 0 {
		r.bs = DefaultBlockSize
	}
	if req.PrevState != nil {
		c, err := stateCodec(req.PrevMetadata.Compression)
		if err != nil {
			return err
		}
		f, err := r.scratch()
		if err != nil {
			return err
		}
		if r.old, err = openOldState(req.PrevState, c.Decode, f); err != nil {
			return err
		}
		if r.old.blockSize != r.bs && req.BlockSize != 0 {
			r.warnf("the chain's block size is %d: --rsync-block-size %d applies from the next level 0", r.old.blockSize, req.BlockSize)
		}
		// A chain keeps its block size, as upstream: the old signatures
		// are per block.
		r.bs = r.old.blockSize
	}
	if r.bs < minBlockSize || r.bs > maxBlockSize {
		return fmt.Errorf("--rsync-block-size %d: want %d..%d", r.bs, minBlockSize, maxBlockSize)
	}
	r.stats.BlockSize = r.bs
	r.recent = r.e.now().Add(-recentMargin).UnixNano()
	for _, p := range []**os.File{&r.hdrF, &r.jobsF, &r.recsF, &r.idxF, &r.sigF} {
		if *p, err = r.scratch(); err != nil {
			return err
		}
	}
	r.hdr, r.jobs, r.recs = newMPWriter(r.hdrF), newMPWriter(r.jobsF), newMPWriter(r.recsF)
	r.idx = bufio.NewWriterSize(r.idxF, 64<<10)
	r.sigs = newSigStore(r.sigF)

	abs, err := filepath.Abs(req.Path)
	if err != nil {
		return err
	}
	st, err := lstatInode(abs)
	if err != nil {
		return fmt.Errorf("reading %s: %w", abs, err)
	}
	if isDir(st.mode) {
		r.srcDir = abs
		err = r.walkDir("")
	} else {
		r.srcDir = filepath.Dir(abs)
		err = r.visit(filepath.Base(abs), st)
	}
	if err != nil {
		return err
	}
	if err := r.deleteUpTo(""); err != nil {
		return err
	}
	for _, w := range []*mpWriter{r.hdr, r.jobs, r.recs} {
		if err := w.flush(); err != nil {
			return fmt.Errorf("writing scratch file: %w", err)
		}
	}
	if err := r.idx.Flush(); err != nil {
		return fmt.Errorf("writing scratch file: %w", err)
	}

	if r.e.betweenPasses != nil {
		r.e.betweenPasses()
	}
	// The payload: header list, then file bytes.
	hw := newMPWriter(out)
	hw.array32Header(uint32(r.nHdr))
	if err := hw.flush(); err != nil {
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(r.hdrF, 0, r.hdr.n)); err != nil {
		return fmt.Errorf("writing the header list: %w", err)
	}
	if err := r.storeData(out); err != nil {
		return err
	}
	if err := r.sigs.flush(); err != nil {
		return fmt.Errorf("writing scratch signatures: %w", err)
	}

	c, err := stateCodec(req.Compression)
	if err != nil {
		return err
	}
	sw, err := c.Encode(req.State)
	if err != nil {
		return fmt.Errorf("compressing the engine state: %w", err)
	}
	if err := composeState(sw, abs, r.bs, io.NewSectionReader(r.recsF, 0, r.recs.n), r.nRecs, r.sigF); err != nil {
		sw.Close()
		return fmt.Errorf("writing the engine state: %w", err)
	}
	if err := sw.Close(); err != nil {
		return fmt.Errorf("writing the engine state: %w", err)
	}
	return nil
}

// walkDir visits the entries below rel ("" = the root) depth first, names
// in byte order: the order pathCompare defines.
func (r *backupRun) walkDir(rel string) error {
	d, err := os.Open(filepath.Join(r.srcDir, rel))
	if err != nil {
		return fmt.Errorf("reading directory: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("reading directory %s: %w", d.Name(), err)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		p := n
		if rel != "" {
			p = rel + "/" + n
		}
		if r.excluded(p) {
			continue
		}
		st, err := lstatInode(filepath.Join(r.srcDir, p))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while we walk: as if it had never been
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if st.mode&sIFMT == sIFSOCK {
			continue // upstream skips sockets; nothing can restore one
		}
		if err := r.visit(p, st); err != nil {
			return err
		}
		if isDir(st.mode) {
			if err := r.walkDir(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteUpTo consumes the previous state's entries before p (all of them
// when p is ""), recording each as deleted.
func (r *backupRun) deleteUpTo(p string) error {
	for {
		o, err := r.old.peek()
		if err != nil || o == nil {
			return err
		}
		if p != "" && pathCompare(o.path, p) >= 0 {
			return nil
		}
		r.hdr.mapHeader(2)
		r.hdr.str("path")
		r.hdr.str(o.path)
		r.hdr.str("deleted")
		r.hdr.bool(true)
		r.nHdr++
		r.stats.Deleted++
		r.old.next()
	}
}

func sameTimes(o *oldFile, st inode) bool {
	if o.mtimeNs != 0 || o.ctimeNs != 0 {
		return o.mtimeNs == st.mtimeNs && o.ctimeNs == st.ctimeNs
	}
	return o.mtime == nsFloat(st.mtimeNs) && o.ctime == nsFloat(st.ctimeNs)
}

// visit handles one entry of the tree in walk order.
func (r *backupRun) visit(p string, st inode) error {
	if err := r.deleteUpTo(p); err != nil {
		return err
	}
	o, err := r.old.peek()
	if err != nil {
		return err
	}
	if o != nil && o.path == p {
		r.old.next()
	} else {
		o = nil
	}
	rec := stateRecord{path: p, mode: st.mode, ctimeNs: st.ctimeNs, mtimeNs: st.mtimeNs, sigSlot: -1}
	linkTo := ""
	if isReg(st.mode) && st.nlink > 1 {
		key := [2]uint64{st.dev, st.ino}
		if first, ok := r.links[key]; ok {
			linkTo = first
		} else {
			r.links[key] = p
		}
	}
	switch {
	case isDir(st.mode):
		r.stats.Dirs++
	case isReg(st.mode):
		r.stats.Files++
	default:
		r.stats.Links++
	}

	// Unchanged since the previous level: carried forward, not stored.
	if o != nil && o.mode == st.mode && sameTimes(o, st) {
		if o.sigOff >= 0 && isReg(st.mode) && linkTo == "" {
			old, err := r.old.sigs(o)
			if err != nil {
				return err
			}
			rec.sigSlot, rec.blocks = r.sigEnd, old.n
			for i := range old.n {
				b, err := old.next()
				if err != nil {
					return fmt.Errorf("previous engine state, signature of %q: %w", p, err)
				}
				r.sigs.put(r.sigEnd+i, b)
			}
			r.sigEnd += old.n
		}
		writeRecord(r.recs, rec)
		r.nRecs++
		return nil
	}
	newLevel := o != nil && o.mode == st.mode
	if st.ctimeNs >= r.recent {
		rec.ctimeNs = -1
	}

	lname := ""
	if isLnk(st.mode) {
		if lname, err = os.Readlink(filepath.Join(r.srcDir, p)); err != nil {
			return fmt.Errorf("reading link %s: %w", p, err)
		}
	}
	size := int64(0)
	var delta *deltaInfo
	if isReg(st.mode) && linkTo == "" {
		size = st.size
		if newLevel && o.sigOff >= 0 {
			if delta, err = r.findChanges(p, o); err != nil {
				return err
			}
			if delta == nil {
				size = 0 // an empty file: nothing to compare
			} else {
				size = delta.size
			}
		}
		if delta == nil {
			rec.sigSlot, rec.blocks = r.sigEnd, (size+int64(r.bs)-1)/int64(r.bs)
			r.sigEnd += rec.blocks
		} else {
			rec.sigSlot, rec.blocks = delta.slot, delta.blocks
		}
	}

	h := r.hdr
	n := 2
	for _, b := range []bool{lname != "", newLevel, delta != nil, linkTo != ""} {
		if b {
			n++
		}
	}
	h.mapHeader(n)
	h.str("path")
	h.str(p)
	h.str("inode")
	h.mapHeader(13)
	h.str("mode")
	h.int(int64(st.mode))
	h.str("dev")
	h.uint(st.dev)
	h.str("uname")
	h.str(r.name(st.uid, r.unames, lookupUser))
	h.str("gname")
	h.str(r.name(st.gid, r.gnames, lookupGroup))
	h.str("atime")
	h.float(nsFloat(st.atimeNs))
	h.str("mtime")
	h.float(nsFloat(st.mtimeNs))
	h.str("size")
	h.int(size)
	// Ours: exact times, numeric owners for names the restoring host
	// lacks, and the device number (upstream wrote only st_dev, the
	// containing file system, and could not restore devices).
	h.str("atime_ns")
	h.int(st.atimeNs)
	h.str("mtime_ns")
	h.int(st.mtimeNs)
	h.str("uid")
	h.uint(uint64(st.uid))
	h.str("gid")
	h.uint(uint64(st.gid))
	h.str("rdev")
	h.uint(st.rdev)
	h.str("nlink")
	h.uint(st.nlink)
	if lname != "" {
		h.str("lname")
		h.str(lname)
	}
	if newLevel {
		h.str("new_level")
		h.bool(true)
	}
	if linkTo != "" {
		// Ours: a further name of a file stored earlier in this list (or
		// unchanged since a previous level); no bytes follow for it.
		h.str("hardlink")
		h.str(linkTo)
	}
	if delta != nil {
		h.str("deltas")
		h.arrayHeader(2)
		h.int(delta.bytes)
		h.arrayHeader(int(delta.count))
		if err := r.idx.Flush(); err != nil {
			return err
		}
		ir := bufio.NewReader(io.NewSectionReader(r.idxF, delta.idxOff*4, delta.count*4))
		var b [4]byte
		for range delta.count {
			if _, err := io.ReadFull(ir, b[:]); err != nil {
				return fmt.Errorf("reading scratch indices: %w", err)
			}
			h.uint(uint64(binary.BigEndian.Uint32(b[:])))
		}
	}
	r.nHdr++
	writeRecord(r.recs, rec)
	r.nRecs++

	if isReg(st.mode) && linkTo == "" {
		j := r.jobs
		j.arrayHeader(6)
		j.str(p)
		j.int(size)
		j.int(rec.sigSlot)
		if delta != nil {
			j.bool(true)
			j.int(delta.idxOff)
			j.int(delta.count)
		} else {
			j.bool(false)
			j.int(0)
			j.int(0)
		}
		r.nJobs++
	}
	if r.req.Progress != nil {
		r.req.Progress(r.stats)
	}
	return firstErr(h.err, r.recs.err, r.jobs.err)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return fmt.Errorf("writing scratch file: %w", e)
		}
	}
	return nil
}

func lookupUser(id uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(id), 10)); err == nil {
		return u.Username
	}
	return ""
}

func lookupGroup(id uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(id), 10)); err == nil {
		return g.Name
	}
	return ""
}

func (r *backupRun) name(id uint32, cache map[uint32]string, lookup func(uint32) string) string {
	n, ok := cache[id]
	if !ok {
		n = lookup(id)
		cache[id] = n
	}
	return n
}

// deltaInfo is what the first pass found in a changed file.
type deltaInfo struct {
	size          int64 // bytes read
	blocks        int64
	slot          int64 // its signatures' first slot
	idxOff, count int64 // changed block indices in the scratch index file
	bytes         int64 // sum of the changed blocks' lengths
}

func (r *backupRun) chunkBytes() int {
	return max(chunkSize/r.bs, 1) * r.bs
}

// findChanges reads p once and compares each block with the old signature
// at the same index (upstream's "fast" delta: no rolling search). It
// returns nil for an empty file.
func (r *backupRun) findChanges(p string, o *oldFile) (*deltaInfo, error) {
	f, err := openNoFollow(filepath.Join(r.srcDir, p))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	defer f.Close()
	old, err := r.old.sigs(o)
	if err != nil {
		return nil, err
	}
	d := &deltaInfo{slot: r.sigEnd, idxOff: r.idxEnd}
	cr := newChunkReader(f, r.chunkBytes(), fileHoles(f))
	defer cr.close()
	bs := int64(r.bs)
	var b4 [4]byte
	addIdx := func(i, n int64) error {
		if i > math.MaxUint32 {
			return fmt.Errorf("%s: more than 2^32 blocks", p)
		}
		binary.BigEndian.PutUint32(b4[:], uint32(i))
		if _, err := r.idx.Write(b4[:]); err != nil {
			return err
		}
		r.idxEnd++
		d.count++
		d.bytes += n
		return nil
	}
	for {
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		c := cr.next()
		if c.err == io.EOF {
			break
		}
		if c.err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, c.err)
		}
		r.sums = hashBlocks(c.data, r.bs, r.e.workers, r.sums)
		for k, s := range r.sums {
			i := d.blocks
			changed := true
			if i < old.n {
				ob, err := old.next()
				if err != nil {
					return nil, fmt.Errorf("previous engine state, signature of %q: %w", p, err)
				}
				changed = ob != s
			}
			if changed {
				n := min(bs, int64(len(c.data))-int64(k)*bs)
				if err := addIdx(i, n); err != nil {
					return nil, err
				}
			}
			r.sigs.put(d.slot+i, s)
			d.blocks++
		}
		d.size += int64(len(c.data))
		cr.release(c.data)
	}
	r.sigEnd += d.blocks
	if d.size == 0 {
		return nil, nil
	}
	if d.count == 0 {
		// Only the times changed, or the file was cut at a block
		// boundary: the last block, rewritten, carries the new size
		// (restore truncates to it). Upstream would store the whole file.
		last := d.blocks - 1
		if err := addIdx(last, d.size-last*bs); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
}

// storeData is the second pass: the bytes of every job, in header order.
func (r *backupRun) storeData(out io.Writer) error {
	jr := newMPReader(io.NewSectionReader(r.jobsF, 0, r.jobs.n), 0)
	for range r.nJobs {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		var (
			p                            string
			size, slot, idxOff, count    int64
			isDelta                      bool
			err1, err2, err3, err4, err5 error
		)
		if n, err := jr.readArrayHeader(); err != nil || n != 6 {
			return fmt.Errorf("reading scratch jobs: %v", err)
		}
		p, err1 = jr.readString()
		size, err2 = jr.readInt()
		slot, err3 = jr.readInt()
		isDelta, err4 = jr.readBool()
		idxOff, err5 = jr.readInt()
		count, _ = jr.readInt()
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return fmt.Errorf("reading scratch jobs: %w", err)
		}
		if err := r.storeFile(out, p, size, slot, isDelta, idxOff, count); err != nil {
			return err
		}
	}
	return nil
}

// storeFile writes one file's bytes (whole, or the listed blocks) and
// signs exactly what it wrote. A file that shrank since the header was
// written is padded with zeros, one that grew is cut: the header's sizes
// are a promise the stream must keep.
func (r *backupRun) storeFile(out io.Writer, p string, size, slot int64, isDelta bool, idxOff, count int64) error {
	f, err := openNoFollow(filepath.Join(r.srcDir, p))
	if err != nil {
		r.warnf("%s: %v; stored as zeros", p, err)
		f = nil
	} else {
		defer f.Close()
	}
	bs := int64(r.bs)
	if r.buf == nil {
		r.buf = make([]byte, 0, r.chunkBytes())
	}
	buf := r.buf[:0]
	first := r.first[:0] // block index of each block in buf
	defer func() { r.first = first }()
	short := false
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		done := make(chan []blockSum, 1)
		go func(data []byte, sums []blockSum) {
			done <- hashBlocks(data, r.bs, r.e.workers, sums)
		}(buf, r.sums)
		_, werr := out.Write(buf)
		r.sums = <-done
		if werr != nil {
			return werr
		}
		for k, s := range r.sums {
			r.sigs.put(slot+first[k], s)
		}
		r.stats.Bytes += int64(len(buf))
		buf, first = buf[:0], first[:0]
		return nil
	}
	// read fills buf[len:len+n] from offset off, zeros past the end.
	read := func(off, n int64) {
		start := len(buf)
		buf = buf[:start+int(n)]
		got := 0
		if f != nil {
			got, _ = f.ReadAt(buf[start:], off)
		}
		if int64(got) < n {
			clear(buf[start+got:])
			short = true
		}
	}
	if isDelta {
		ir := bufio.NewReader(io.NewSectionReader(r.idxF, idxOff*4, count*4))
		var b4 [4]byte
		for range count {
			if _, err := io.ReadFull(ir, b4[:]); err != nil {
				return fmt.Errorf("reading scratch indices: %w", err)
			}
			i := int64(binary.BigEndian.Uint32(b4[:]))
			if len(buf)+int(bs) > cap(buf) {
				if err := flush(); err != nil {
					return err
				}
			}
			first = append(first, i)
			read(i*bs, min(bs, size-i*bs))
		}
	} else {
		for off := int64(0); off < size; {
			n := min(int64(cap(buf)), size-off)
			read(off, n)
			for i := off / bs; i*bs < off+n; i++ {
				first = append(first, i)
			}
			if err := flush(); err != nil {
				return err
			}
			off += n
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if short {
		r.warnf("%s shrank while it was backed up; the missing bytes are stored as zeros", p)
	}
	if r.req.Progress != nil {
		r.req.Progress(r.stats)
	}
	return nil
}
