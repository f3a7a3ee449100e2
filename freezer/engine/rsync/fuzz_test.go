//go:build linux

package rsync

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// FuzzHeader feeds arbitrary bytes to the header list decoder: errors are
// fine, panics and unbounded allocations are not.
func FuzzHeader(f *testing.F) {
	f.Add(payloadOf(1, func(w *mpWriter) { fileEntry(w, "a", sIFREG|0o644, 1, nil) }, nil))
	f.Add(payloadOf(1, func(w *mpWriter) {
		fileEntry(w, "f", sIFREG|0o644, 4096, func(m *mpWriter) int {
			m.str("new_level")
			m.bool(true)
			m.str("deltas")
			m.arrayHeader(2)
			m.int(4096)
			m.arrayHeader(2)
			m.int(0)
			m.int(3)
			return 2
		})
	}, nil))
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := newMPReader(bytes.NewReader(b), 0)
		n, err := m.readArrayHeader()
		if err != nil {
			return
		}
		for range n {
			e, err := decodeEntry(m, func(uint32) error { return nil })
			if err != nil {
				return
			}
			if !e.deleted && checkRel(e.path) != nil {
				t.Fatalf("accepted unsafe path %q", e.path)
			}
		}
	})
}

// FuzzRestore applies arbitrary bytes as a level on top of a restored level
// 0, so block deltas against real files are reached; nothing may be
// written outside the target and nothing may panic. Each input is applied
// twice: in place (an authenticated stream), and staged with a Verify
// that fails, after which every file of the target must still hold its
// level-0 version or be gone, and no temporary may stay.
func FuzzRestore(f *testing.F) {
	src := filepath.Join(f.TempDir(), "src")
	write(f, filepath.Join(src, "f"), randBytes(1, 3*4096+5))
	write(f, filepath.Join(src, "d", "g"), []byte("g"))
	must(f, os.Symlink("f", filepath.Join(src, "l")))
	e := New(Options{TempDir: f.TempDir(), Now: func() time.Time { return time.Now().Add(time.Hour) }})
	l0 := runBackup(f, e, src, nil, "gzip", 0)
	fh, err := os.OpenFile(filepath.Join(src, "f"), os.O_WRONLY, 0)
	must(f, err)
	_, err = fh.WriteAt([]byte("xx"), 4096)
	must(f, err)
	must(f, fh.Close())
	must(f, os.Remove(filepath.Join(src, "d", "g")))
	l1 := runBackup(f, e, src, &l0, "gzip", 0)
	f.Add(l1.payload)
	f.Add(l0.payload)
	var want map[string]node
	bad := errors.New("checksum mismatch")
	f.Fuzz(func(t *testing.T, b []byte) {
		s := newSandbox(t)
		if err := restoreBytes(e, s.dst, l0.payload); err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = snapshot(t, s.dst)
		}
		restoreBytes(e, s.dst, b)
		s.check(t)

		s = newSandbox(t)
		if err := restoreBytes(e, s.dst, l0.payload); err != nil {
			t.Fatal(err)
		}
		_, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: s.dst, Verify: func() error { return bad }}, bytes.NewReader(b))
		if err == nil {
			t.Fatal("restore succeeded with a failing Verify")
		}
		s.check(t)
		for p, n := range snapshot(t, s.dst) {
			if n.typ.IsDir() {
				continue
			}
			if strings.HasPrefix(path.Base(p), ".freezer-rsync-") {
				t.Fatalf("temporary %s left", p)
			}
			if w, ok := want[p]; !ok || w.typ != n.typ || w.sum != n.sum || w.target != n.target || w.rdev != n.rdev {
				t.Fatalf("%s holds %s after a failed Verify, not its level-0 version", p, describe(n))
			}
		}
	})
}
