package rsync

import (
	"fmt"
	"math"
	"strings"
)

// hdrEntry is one decoded, validated member of a payload's header list.
type hdrEntry struct {
	path              string
	deleted, newLevel bool
	mode              uint32
	uname, gname      string
	uid, gid          int64 // -1 when absent
	rdev              uint64
	nlink             uint64 // 0 when absent (upstream's headers)
	atimeNs, mtimeNs  int64
	size              int64
	lname, hardlink   string
	hasDeltas         bool
	deltaBytes        int64
	nidx              int64 // changed block indices, streamed to the index scratch
}

// Bounds on header values. Paths longer than PATH_MAX cannot be created
// anyway; the size bound keeps block arithmetic far from overflow.
const (
	maxPathLen = 4096
	maxSize    = 1 << 50
	maxTimeSec = 1 << 40
)

// checkRel validates a header path: relative, slash-separated, no empty,
// "." or ".." component, no NUL. Anything else could name a file outside
// the restore directory.
func checkRel(p string) error {
	if p == "" || len(p) > maxPathLen || strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return unsafef("path %q", p)
	}
	for c := range strings.SplitSeq(p, "/") {
		if c == "" || c == "." || c == ".." {
			return unsafef("path %q", p)
		}
	}
	return nil
}

func timeNs(f float64) (int64, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxTimeSec {
		return 0, fmt.Errorf("time %v out of range", f)
	}
	return int64(math.Round(f * 1e9)), nil
}

// decodeEntry reads one header map. Changed block indices are handed to
// idx as they are read (they may be millions), checked to be ascending.
func decodeEntry(m *mpReader, idx func(uint32) error) (hdrEntry, error) {
	e := hdrEntry{uid: -1, gid: -1}
	n, err := m.readMapHeader()
	if err != nil {
		return e, err
	}
	seen := map[string]bool{}
	var atime, mtime float64
	haveANs, haveMNs := false, false
	hasInode := false
	for range n {
		k, err := m.readString()
		if err != nil {
			return e, err
		}
		if seen[k] {
			return e, fmt.Errorf("key %q repeated", k)
		}
		seen[k] = true
		switch k {
		case "path":
			e.path, err = m.readString()
		case "deleted":
			e.deleted, err = m.readBool()
		case "new_level":
			e.newLevel, err = m.readBool()
		case "lname":
			e.lname, err = m.readString()
		case "hardlink":
			e.hardlink, err = m.readString()
		case "deltas":
			err = decodeDeltas(m, &e, idx)
		case "inode":
			hasInode = true
			var ni int64
			if ni, err = m.readMapHeader(); err != nil {
				break
			}
			iseen := map[string]bool{}
			for range ni {
				var ik string
				if ik, err = m.readString(); err != nil {
					break
				}
				if iseen[ik] {
					err = fmt.Errorf("inode key %q repeated", ik)
					break
				}
				iseen[ik] = true
				var v int64
				switch ik {
				case "mode":
					v, err = m.readInt()
					if err == nil && (v < 0 || v > math.MaxUint32) {
						err = fmt.Errorf("mode %d out of range", v)
					}
					e.mode = uint32(v)
				case "uname":
					e.uname, err = m.readString()
				case "gname":
					e.gname, err = m.readString()
				case "uid":
					e.uid, err = m.readInt()
				case "gid":
					e.gid, err = m.readInt()
				case "rdev":
					v, err = m.readInt()
					e.rdev = uint64(v)
				case "nlink":
					v, err = m.readInt()
					e.nlink = uint64(max(v, 0))
				case "size":
					e.size, err = m.readInt()
				case "atime":
					atime, err = m.readFloat()
				case "mtime":
					mtime, err = m.readFloat()
				case "atime_ns":
					e.atimeNs, err = m.readInt()
					haveANs = true
				case "mtime_ns":
					e.mtimeNs, err = m.readInt()
					haveMNs = true
				default:
					err = m.skip()
				}
				if err != nil {
					break
				}
			}
		default:
			err = m.skip()
		}
		if err != nil {
			return e, fmt.Errorf("key %q: %w", k, err)
		}
	}
	if err := checkRel(e.path); err != nil {
		return e, err
	}
	if e.deleted {
		return e, nil
	}
	if !hasInode {
		return e, fmt.Errorf("%s: no inode", e.path)
	}
	if !haveANs {
		if e.atimeNs, err = timeNs(atime); err != nil {
			return e, fmt.Errorf("%s: %w", e.path, err)
		}
	}
	if !haveMNs {
		if e.mtimeNs, err = timeNs(mtime); err != nil {
			return e, fmt.Errorf("%s: %w", e.path, err)
		}
	}
	if e.uid > math.MaxUint32 || e.gid > math.MaxUint32 || e.uid < -1 || e.gid < -1 {
		return e, fmt.Errorf("%s: owner out of range", e.path)
	}
	switch e.mode & sIFMT {
	case sIFREG:
		if e.size < 0 || e.size > maxSize {
			return e, fmt.Errorf("%s: size %d out of range", e.path, e.size)
		}
		if e.hardlink != "" {
			if err := checkRel(e.hardlink); err != nil {
				return e, err
			}
			if e.hardlink == e.path || e.hasDeltas {
				return e, fmt.Errorf("%s: bad hard link", e.path)
			}
		}
	case sIFDIR, sIFCHR, sIFBLK, sIFIFO:
	case sIFLNK:
		if e.lname == "" || len(e.lname) > maxPathLen || strings.ContainsRune(e.lname, 0) {
			return e, fmt.Errorf("%s: bad link target", e.path)
		}
	default:
		return e, fmt.Errorf("%s: unsupported file type in mode 0%o", e.path, e.mode)
	}
	if e.hasDeltas && !isReg(e.mode) {
		return e, fmt.Errorf("%s: block deltas for a file that is not regular", e.path)
	}
	if !isReg(e.mode) {
		e.size = 0
	}
	return e, nil
}

func decodeDeltas(m *mpReader, e *hdrEntry, idx func(uint32) error) error {
	if n, err := m.readArrayHeader(); err != nil || n != 2 {
		return fmt.Errorf("want [length, [index, ...]] (%v)", err)
	}
	var err error
	if e.deltaBytes, err = m.readInt(); err != nil {
		return err
	}
	if e.deltaBytes < 0 || e.deltaBytes > maxSize {
		return fmt.Errorf("delta length %d out of range", e.deltaBytes)
	}
	n, err := m.readArrayHeader()
	if err != nil {
		return err
	}
	prev := int64(-1)
	for range n {
		v, err := m.readInt()
		if err != nil {
			return err
		}
		if v <= prev || v > math.MaxUint32 {
			return fmt.Errorf("block index %d after %d: want ascending indices", v, prev)
		}
		prev = v
		if err := idx(uint32(v)); err != nil {
			return err
		}
	}
	e.hasDeltas, e.nidx = true, n
	return nil
}

// writeEntry and readEntry keep validated entries in a scratch file.
func writeEntry(w *mpWriter, e hdrEntry) {
	w.arrayHeader(18)
	w.str(e.path)
	w.bool(e.deleted)
	w.bool(e.newLevel)
	w.int(int64(e.mode))
	w.str(e.uname)
	w.str(e.gname)
	w.int(e.uid)
	w.int(e.gid)
	w.uint(e.rdev)
	w.int(e.atimeNs)
	w.int(e.mtimeNs)
	w.int(e.size)
	w.str(e.lname)
	w.str(e.hardlink)
	w.bool(e.hasDeltas)
	w.int(e.deltaBytes)
	w.int(e.nidx)
	w.uint(e.nlink)
}

func readEntry(m *mpReader) (hdrEntry, error) {
	var e hdrEntry
	if n, err := m.readArrayHeader(); err != nil || n != 18 {
		return e, fmt.Errorf("scratch entry: %v", err)
	}
	var errs [18]error
	var mode, rdev, nlink int64
	e.path, errs[0] = m.readString()
	e.deleted, errs[1] = m.readBool()
	e.newLevel, errs[2] = m.readBool()
	mode, errs[3] = m.readInt()
	e.uname, errs[4] = m.readString()
	e.gname, errs[5] = m.readString()
	e.uid, errs[6] = m.readInt()
	e.gid, errs[7] = m.readInt()
	rdev, errs[8] = m.readInt()
	e.atimeNs, errs[9] = m.readInt()
	e.mtimeNs, errs[10] = m.readInt()
	e.size, errs[11] = m.readInt()
	e.lname, errs[12] = m.readString()
	e.hardlink, errs[13] = m.readString()
	e.hasDeltas, errs[14] = m.readBool()
	e.deltaBytes, errs[15] = m.readInt()
	e.nidx, errs[16] = m.readInt()
	nlink, errs[17] = m.readInt()
	for _, err := range errs {
		if err != nil {
			return e, fmt.Errorf("scratch entry: %w", err)
		}
	}
	e.mode, e.rdev, e.nlink = uint32(mode), uint64(rdev), uint64(nlink)
	return e, nil
}
