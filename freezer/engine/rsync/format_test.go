//go:build linux

package rsync

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// decodeHeader parses a payload's header list with the restore decoder
// and returns the entries, their block indices and the header's length.
func decodeHeader(t *testing.T, payload []byte) ([]hdrEntry, [][]uint32, int64) {
	t.Helper()
	m := newMPReader(bytes.NewReader(payload), 0)
	n, err := m.readArrayHeader()
	must(t, err)
	var es []hdrEntry
	var idx [][]uint32
	for range n {
		var cur []uint32
		e, err := decodeEntry(m, func(v uint32) error { cur = append(cur, v); return nil })
		must(t, err)
		es = append(es, e)
		idx = append(idx, cur)
	}
	return es, idx, m.off
}

// TestLevelStoresOnlyChangedBlocks: a level 1 of a large file with a few
// changed blocks stores those blocks and nothing else.
func TestLevelStoresOnlyChangedBlocks(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	big := filepath.Join(src, "big.bin")
	write(t, big, randBytes(7, 16<<20+1000))
	write(t, filepath.Join(src, "other"), []byte("untouched"))
	// The clock is an hour ahead, so no file counts as just changed.
	e := New(Options{TempDir: t.TempDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	l0 := runBackup(t, e, src, nil, "gzip", 0)

	f, err := os.OpenFile(big, os.O_WRONLY, 0)
	must(t, err)
	for _, blk := range []int64{0, 1000, 4096} {
		_, err := f.WriteAt([]byte("changed"), blk*4096+10)
		must(t, err)
	}
	must(t, f.Close())
	l1 := runBackup(t, e, src, &l0, "gzip", 0)

	es, idx, hlen := decodeHeader(t, l1.payload)
	if len(es) != 1 || es[0].path != "big.bin" || !es[0].newLevel || !es[0].hasDeltas {
		t.Fatalf("level 1 header: %+v", es)
	}
	if got := idx[0]; len(got) != 3 || got[0] != 0 || got[1] != 1000 || got[2] != 4096 {
		t.Errorf("changed blocks %v, want [0 1000 4096]", got)
	}
	// block 4096 is the file's last, 1000 bytes long
	if data := int64(len(l1.payload)) - hlen; data != 2*4096+1000 || es[0].deltaBytes != data {
		t.Errorf("level 1 stores %d bytes of data (header says %d), want %d", data, es[0].deltaBytes, 2*4096+1000)
	}

	dst := t.TempDir()
	runRestore(t, e, l0, dst)
	runRestore(t, e, l1, dst)
	compareTrees(t, snapshot(t, src), snapshot(t, dst))
}

// TestPythonDecodes runs Debian's python3-msgpack, the library upstream's
// agent uses, on our header list and engine_metadata, and checks that they
// decode into upstream's structures, with signatures that match the
// files' blocks as zlib.adler32 and hashlib.sha1 compute them.
func TestPythonDecodes(t *testing.T) {
	py := "/usr/bin/python3" // Debian's, the interpreter of python3-freezer
	if err := exec.Command(py, "-c", "import msgpack").Run(); err != nil {
		t.Skipf("needs %s with python3-msgpack (apt-get install python3-msgpack): %v", py, err)
	}
	src := filepath.Join(t.TempDir(), "src")
	write(t, filepath.Join(src, "a.txt"), []byte("hello"))
	write(t, filepath.Join(src, "d", "big"), randBytes(8, 5*4096+100))
	must(t, os.Symlink("a.txt", filepath.Join(src, "lnk")))
	write(t, filepath.Join(src, "gone"), []byte("x"))
	e := New(Options{TempDir: t.TempDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	l0 := runBackup(t, e, src, nil, "gzip", 0)
	f, err := os.OpenFile(filepath.Join(src, "d", "big"), os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte("zz"), 2*4096+5)
	must(t, err)
	must(t, f.Close())
	must(t, os.Remove(filepath.Join(src, "gone")))
	l1 := runBackup(t, e, src, &l0, "gzip", 0)

	dir := t.TempDir()
	for i, l := range []level{l0, l1} {
		must(t, os.WriteFile(filepath.Join(dir, "payload"+itoa(int64(i))), l.payload, 0o600))
		must(t, os.WriteFile(filepath.Join(dir, "state"+itoa(int64(i))), l.state, 0o600))
	}
	const script = `
import hashlib, io, json, os, stat, sys, zlib
import msgpack
d, src = sys.argv[1], sys.argv[2]
out = {}
for lvl in (0, 1):
    raw = open(os.path.join(d, "payload%d" % lvl), "rb").read()
    up = msgpack.Unpacker(io.BytesIO(raw), raw=False)
    header = up.unpack()
    data_len = len(raw) - up.tell()
    assert isinstance(header, list), header
    want = 0
    for h in header:
        assert isinstance(h["path"], str)
        if h.get("deleted"):
            assert h["deleted"] is True and set(h) == {"path", "deleted"}, h
            continue
        ino = h["inode"]
        for k, ty in (("mode", int), ("dev", int), ("uname", str), ("gname", str),
                      ("atime", float), ("mtime", float), ("size", int)):
            assert isinstance(ino[k], ty), (h["path"], k, ino[k])
        if stat.S_ISLNK(ino["mode"]):
            assert h["lname"] == os.readlink(os.path.join(src, h["path"]))
        if stat.S_ISREG(ino["mode"]):
            if "deltas" in h:
                assert h["new_level"] is True
                n, idx = h["deltas"]
                assert idx == sorted(idx) and isinstance(n, int)
                want += n
            else:
                want += ino["size"]
    assert data_len == want, (data_len, want)
    meta = msgpack.unpackb(zlib.decompress(open(os.path.join(d, "state%d" % lvl), "rb").read()), raw=False)
    assert meta["rsync_struct_ver"] == 2 and meta["rsync_block_size"] == 4096, meta
    assert isinstance(meta["platform"], str) and meta["abs_backup_path"] == src
    for p, fm in meta["files"].items():
        assert isinstance(fm["mode"], int) and isinstance(fm["mtime"], float) and isinstance(fm["ctime"], float)
        if stat.S_ISREG(fm["mode"]) and lvl == 1:  # the tree is as of level 1
            weak, strong = fm["signature"]
            body = open(os.path.join(src, p), "rb").read()
            blocks = [body[i:i + 4096] for i in range(0, len(body), 4096)]
            assert weak == [zlib.adler32(b) & 0xffffffff for b in blocks], p
            assert strong == [hashlib.sha1(b).hexdigest() for b in blocks], p
        elif not stat.S_ISREG(fm["mode"]):
            assert "signature" not in fm, p
    out[lvl] = {"header": [h["path"] + ("!" if h.get("deleted") else "") for h in header],
                "files": sorted(meta["files"]),
                "deltas": [h["deltas"] for h in header if "deltas" in h]}
print(json.dumps(out))
`
	cmd := exec.Command(py, "-c", script, dir, src)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var got map[string]struct {
		Header []string
		Files  []string
		Deltas []any
	}
	must(t, json.Unmarshal(b, &got))
	want0 := []string{"a.txt", "d", "d/big", "gone", "lnk"}
	if s := got["0"]; !equal(s.Header, want0) || !equal(s.Files, want0) {
		t.Errorf("level 0 as Python sees it: %+v", s)
	}
	if s := got["1"]; !equal(s.Header, []string{"d/big", "gone!"}) || !equal(s.Files, []string{"a.txt", "d", "d/big", "lnk"}) || len(s.Deltas) != 1 {
		t.Errorf("level 1 as Python sees it: %+v", s)
	}
	t.Logf("python: %s", b)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSignaturesAreOfStoredBytes changes a file between the pass that
// finds its changed blocks and the pass that stores them: the state must
// sign what was stored (the newest bytes of a stored block, the old bytes
// of a block not stored), so the next level stores the block the restore
// lacks and the chain restores the file as it is.
func TestSignaturesAreOfStoredBytes(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	p := filepath.Join(src, "f")
	write(t, p, randBytes(21, 8*4096))
	e := New(Options{TempDir: t.TempDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	l0 := runBackup(t, e, src, nil, "gzip", 0)
	poke := func(blk int64, s string) {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		must(t, err)
		_, err = f.WriteAt([]byte(s), blk*4096)
		must(t, err)
		must(t, f.Close())
	}
	poke(0, "first")
	e.betweenPasses = func() {
		poke(0, "again") // a block being stored changes again
		poke(5, "later") // a block found unchanged changes now
	}
	l1 := runBackup(t, e, src, &l0, "gzip", 0)
	e.betweenPasses = nil
	_, idx, _ := decodeHeader(t, l1.payload)
	if len(idx) != 1 || len(idx[0]) != 1 || idx[0][0] != 0 {
		t.Fatalf("level 1 blocks %v, want [[0]]", idx)
	}
	l2 := runBackup(t, e, src, &l1, "gzip", 0)
	_, idx, _ = decodeHeader(t, l2.payload)
	if len(idx) != 1 || len(idx[0]) != 1 || idx[0][0] != 5 {
		t.Fatalf("level 2 blocks %v, want [[5]]: the block changed after level 1 read it", idx)
	}
	dst := t.TempDir()
	for _, l := range []level{l0, l1, l2} {
		runRestore(t, e, l, dst)
	}
	compareTrees(t, snapshot(t, src), snapshot(t, dst))
}
