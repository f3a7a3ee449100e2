//go:build linux

package rsync

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// sandbox is a directory holding the restore target and a sentinel beside
// it; after a hostile restore nothing but the target may have changed.
type sandbox struct {
	root, dst string
}

func newSandbox(t testing.TB) sandbox {
	root := t.TempDir()
	s := sandbox{root: root, dst: filepath.Join(root, "dst")}
	must(t, os.Mkdir(s.dst, 0o755))
	write(t, filepath.Join(root, "sentinel"), []byte("keep"))
	return s
}

func (s sandbox) check(t testing.TB) {
	t.Helper()
	ents, err := os.ReadDir(s.root)
	must(t, err)
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("restore wrote outside its target: %v", names)
	}
	if b, err := os.ReadFile(filepath.Join(s.root, "sentinel")); err != nil || string(b) != "keep" {
		t.Fatalf("sentinel changed: %q %v", b, err)
	}
}

func restoreBytes(e *Engine, dir string, payload []byte) error {
	_, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: dir}, bytes.NewReader(payload))
	return err
}

// header builds a payload from entries written by fn, then data.
func payloadOf(n int, fn func(w *mpWriter), data []byte) []byte {
	var b bytes.Buffer
	w := newMPWriter(&b)
	w.arrayHeader(n)
	fn(w)
	w.flush()
	b.Write(data)
	return b.Bytes()
}

func fileEntry(w *mpWriter, path string, mode uint32, size int64, extra func(w *mpWriter) int) {
	n := 2
	var more bytes.Buffer
	mw := newMPWriter(&more)
	if extra != nil {
		n += extra(mw)
	}
	mw.flush()
	w.mapHeader(n)
	w.str("path")
	w.str(path)
	w.str("inode")
	w.mapHeader(5)
	w.str("mode")
	w.int(int64(mode))
	w.str("size")
	w.int(size)
	w.str("uname")
	w.str("root")
	w.str("atime")
	w.float(1)
	w.str("mtime")
	w.float(1)
	w.write(more.Bytes())
}

func TestHostileHeaders(t *testing.T) {
	e := New(Options{TempDir: t.TempDir()})
	cases := []struct {
		name    string
		payload []byte
		want    error
	}{
		{"dot-dot", payloadOf(1, func(w *mpWriter) { fileEntry(w, "../evil", sIFREG|0o644, 1, nil) }, []byte("x")), ErrUnsafePath},
		{"inner dot-dot", payloadOf(1, func(w *mpWriter) { fileEntry(w, "a/../../evil", sIFREG|0o644, 1, nil) }, []byte("x")), ErrUnsafePath},
		{"absolute", payloadOf(1, func(w *mpWriter) { fileEntry(w, "/tmp/evil", sIFREG|0o644, 1, nil) }, []byte("x")), ErrUnsafePath},
		{"empty component", payloadOf(1, func(w *mpWriter) { fileEntry(w, "a//b", sIFREG|0o644, 1, nil) }, []byte("x")), ErrUnsafePath},
		{"through a symlink", payloadOf(2, func(w *mpWriter) {
			fileEntry(w, "lnk", sIFLNK|0o777, 0, func(m *mpWriter) int { m.str("lname"); m.str(".."); return 1 })
			fileEntry(w, "lnk/evil", sIFREG|0o644, 1, nil)
		}, []byte("x")), ErrUnsafePath},
		{"hard link out", payloadOf(1, func(w *mpWriter) {
			fileEntry(w, "h", sIFREG|0o644, 0, func(m *mpWriter) int { m.str("hardlink"); m.str("../sentinel"); return 1 })
		}, nil), ErrUnsafePath},
		{"hard link through symlink", payloadOf(2, func(w *mpWriter) {
			fileEntry(w, "lnk", sIFLNK|0o777, 0, func(m *mpWriter) int { m.str("lname"); m.str(".."); return 1 })
			fileEntry(w, "h", sIFREG|0o644, 0, func(m *mpWriter) int { m.str("hardlink"); m.str("lnk/sentinel"); return 1 })
		}, nil), ErrCorrupt},
		{"delete through symlink", payloadOf(2, func(w *mpWriter) {
			fileEntry(w, "lnk", sIFLNK|0o777, 0, func(m *mpWriter) int { m.str("lname"); m.str(".."); return 1 })
			w.mapHeader(2)
			w.str("path")
			w.str("lnk/sentinel")
			w.str("deleted")
			w.bool(true)
		}, nil), nil},
		{"short data", payloadOf(1, func(w *mpWriter) { fileEntry(w, "f", sIFREG|0o644, 100, nil) }, []byte("x")), ErrCorrupt},
		{"trailing data", payloadOf(1, func(w *mpWriter) { fileEntry(w, "f", sIFREG|0o644, 1, nil) }, []byte("xy")), ErrCorrupt},
		{"delta of a missing file", payloadOf(1, func(w *mpWriter) {
			fileEntry(w, "f", sIFREG|0o644, 4096, func(m *mpWriter) int {
				m.str("new_level")
				m.bool(true)
				m.str("deltas")
				m.arrayHeader(2)
				m.int(4096)
				m.arrayHeader(1)
				m.int(0)
				return 2
			})
		}, make([]byte, 4096)), ErrCorrupt},
		{"socket", payloadOf(1, func(w *mpWriter) { fileEntry(w, "s", sIFSOCK|0o644, 0, nil) }, nil), ErrCorrupt},
		{"huge count", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, ErrCorrupt},
		{"huge string", append([]byte{0x91, 0x81, 0xa4, 'p', 'a', 't', 'h', 0xdb, 0x7f, 0xff, 0xff, 0xff}, "x"...), ErrCorrupt},
		{"deep nesting", append(append([]byte{0x91, 0x81, 0xa1, 'z'}, bytes.Repeat([]byte{0x91}, 100)...), 0xc0), ErrCorrupt},
		{"not msgpack", []byte("GARBAGE"), ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSandbox(t)
			err := restoreBytes(e, s.dst, c.payload)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("restore: %v, want %v", err, c.want)
			}
			s.check(t)
		})
	}
}

// TestDeltaDamage: a level whose delta stream is cut or altered fails with
// a clear error, never a panic, and writes nothing outside the target.
func TestDeltaDamage(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	write(t, filepath.Join(src, "f"), randBytes(11, 10*4096+10))
	write(t, filepath.Join(src, "d", "g"), randBytes(12, 5000))
	e := New(Options{TempDir: t.TempDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	l0 := runBackup(t, e, src, nil, "gzip", 0)
	f, err := os.OpenFile(filepath.Join(src, "f"), os.O_WRONLY, 0)
	must(t, err)
	f.WriteAt([]byte("!!"), 3*4096)
	f.WriteAt([]byte("!!"), 10*4096+1)
	f.Close()
	l1 := runBackup(t, e, src, &l0, "gzip", 0)

	try := func(t *testing.T, p []byte) error {
		s := newSandbox(t)
		runRestore(t, e, l0, s.dst)
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			err = restoreBytes(e, s.dst, p)
		}()
		s.check(t)
		return err
	}
	for cut := 0; cut < len(l1.payload); cut += max(1, len(l1.payload)/40) {
		if err := try(t, l1.payload[:cut]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut at %d of %d: %v, want a corrupt-archive error", cut, len(l1.payload), err)
		}
	}
	for i := 0; i < len(l1.payload); i += max(1, len(l1.payload)/80) {
		p := bytes.Clone(l1.payload)
		p[i] ^= 0x5a
		err := try(t, p)
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsafePath) && !strings.Contains(err.Error(), "creating") {
			t.Errorf("flip at %d: unclassified error %v", i, err)
		}
	}
}
