package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// Config tunes the suite for a backend.
type Config struct {
	// LargeSize is the size of the large-stream test object; it should span
	// several segments or parts of a segmenting backend. Default 8 MiB+1.
	LargeSize int64
	// PayloadSiblings are names a payload key ("…/data") may add next to
	// itself in its directory, e.g. "segments" for Swift. Listings may show
	// them; every other extra name is a failure.
	PayloadSiblings []string
	// Timeout bounds each subtest. Default 5 minutes.
	Timeout time.Duration
}

// Run runs the conformance suite with the default Config.
func Run(t *testing.T, newStorage func(t *testing.T) backup.Storage) {
	t.Helper()
	RunConfig(t, Config{}, newStorage)
}

// RunConfig runs the suite. newStorage must return a storage whose root is
// fresh and empty for each call; the suite calls it once per subtest.
func RunConfig(t *testing.T, cfg Config, newStorage func(t *testing.T) backup.Storage) {
	t.Helper()
	if cfg.LargeSize <= 0 {
		cfg.LargeSize = 8<<20 + 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	s := &suite{cfg: cfg, newStorage: newStorage}
	tests := []struct {
		name string
		fn   func(context.Context, *testing.T, backup.Storage)
	}{
		{"PutGet", s.putGet},
		{"Overwrite", s.overwrite},
		{"LargeStream", s.large},
		{"ListExact", s.listExact},
		{"ListPayload", s.listPayload},
		{"ListEmpty", s.listEmpty},
		{"Missing", s.missing},
		{"Concurrent", s.concurrent},
		{"DeleteObject", s.deleteObject},
		{"DeleteDir", s.deleteDir},
		{"FailedPut", s.failedPut},
		{"CancelledPut", s.cancelledPut},
		{"CancelledCalls", s.cancelledCalls},
		{"InvalidKeys", s.invalidKeys},
		{"String", s.str},
		{"Size", s.size},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			tc.fn(ctx, t, newStorage(t))
		})
	}
}

type suite struct {
	cfg        Config
	newStorage func(t *testing.T) backup.Storage
}

func put(ctx context.Context, t *testing.T, st backup.Storage, key string, data []byte) {
	t.Helper()
	if err := st.Put(ctx, key, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(ctx context.Context, t *testing.T, st backup.Storage, key string) []byte {
	t.Helper()
	rc, err := st.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return b
}

func list(ctx context.Context, t *testing.T, st backup.Storage, dir string) []string {
	t.Helper()
	names, err := st.List(ctx, dir)
	if err != nil {
		t.Fatalf("List(%q): %v", dir, err)
	}
	return names
}

func wantList(ctx context.Context, t *testing.T, st backup.Storage, dir string, want ...string) {
	t.Helper()
	got := list(ctx, t, st, dir)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List(%q) = %q, want %q", dir, got, want)
	}
}

func wantNotFound(ctx context.Context, t *testing.T, st backup.Storage, key string) {
	t.Helper()
	rc, err := st.Get(ctx, key)
	if err == nil {
		b, rerr := io.ReadAll(rc)
		rc.Close()
		t.Fatalf("Get(%q) succeeded (%d bytes, read error %v), want ErrNotFound", key, len(b), rerr)
	}
	if !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("Get(%q) error = %v, want one wrapping backup.ErrNotFound", key, err)
	}
}

// listWithout checks that List(dir) holds neither name nor anything but the
// allowed names and the payload siblings.
func (s *suite) wantAbsentFromList(ctx context.Context, t *testing.T, st backup.Storage, dir, name string, allowed ...string) {
	t.Helper()
	for _, n := range list(ctx, t, st, dir) {
		if n == name {
			t.Fatalf("List(%q) shows %q after a failed Put", dir, name)
		}
		if !slices.Contains(allowed, n) && !slices.Contains(s.cfg.PayloadSiblings, n) {
			t.Fatalf("List(%q) shows unexpected %q", dir, n)
		}
	}
}

func (s *suite) putGet(ctx context.Context, t *testing.T, st backup.Storage) {
	cases := map[string][]byte{
		"metadata/tar/host_bk/1700000000/0_1700000000/metadata":    []byte(`{"engine_name": "tar", "compression": "gzip", "encryption": false}`),
		"data/tar/host_bk/1700000000/0_1700000000/engine_metadata": {0, 1, 2, 255, '\n', 0},
		"data/tar/host_bk/1700000000/0_1700000000/data":            []byte("payload bytes"),
		"top":   []byte("a top-level object"),
		"empty": {},
	}
	for k, v := range cases {
		put(ctx, t, st, k, v)
	}
	for k, v := range cases {
		if got := get(ctx, t, st, k); !bytes.Equal(got, v) {
			t.Errorf("Get(%q) = %q, want %q", k, got, v)
		}
	}
	// An empty payload is a valid (empty) backup stream.
	put(ctx, t, st, "e/data", nil)
	if got := get(ctx, t, st, "e/data"); len(got) != 0 {
		t.Errorf("empty payload read back as %d bytes", len(got))
	}
}

func (s *suite) overwrite(ctx context.Context, t *testing.T, st backup.Storage) {
	for _, key := range []string{"a/obj", "a/data"} {
		put(ctx, t, st, key, []byte("first version, longer than the second"))
		put(ctx, t, st, key, []byte("second"))
		if got := string(get(ctx, t, st, key)); got != "second" {
			t.Errorf("after overwrite Get(%q) = %q, want %q", key, got, "second")
		}
	}
}

func (s *suite) large(ctx context.Context, t *testing.T, st backup.Storage) {
	n := s.cfg.LargeSize
	want, _, err := HashOf(Generator(42, n))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"data/tar/h_b/1/0_1/data", "big/object"} {
		if err := st.Put(ctx, key, Generator(42, n)); err != nil {
			t.Fatalf("Put(%q) of %d bytes: %v", key, n, err)
		}
		rc, err := st.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		got, gn, err := HashOf(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("reading %q after %d bytes: %v", key, gn, err)
		}
		if gn != n || got != want {
			t.Fatalf("Get(%q): %d bytes sha256 %s, want %d bytes sha256 %s", key, gn, got, n, want)
		}
	}
}

// size: a storage that can tell sizes (itself or what it wraps) gives an
// empty, a small and a large payload's exact sizes without reading them,
// and ErrNotFound for a missing key. Every storage of this project can.
func (s *suite) size(ctx context.Context, t *testing.T, st backup.Storage) {
	objs := map[string]int64{
		"data/tar/h_b/1/0_1/data":  s.cfg.LargeSize,
		"data/tar/h_b/2/0_2/data":  0,
		"metadata/tar/h_b/1/0_1/m": 5,
	}
	for key, n := range objs {
		if err := st.Put(ctx, key, Generator(7, n)); err != nil {
			t.Fatalf("Put(%q) of %d bytes: %v", key, n, err)
		}
	}
	for key, n := range objs {
		got, err := backup.SizeOf(ctx, st, key)
		if err != nil {
			t.Fatalf("Size(%q): %v", key, err)
		}
		if got != n {
			t.Errorf("Size(%q) = %d, want %d", key, got, n)
		}
	}
	for _, key := range []string{"data/tar/h_b/3/0_3/data", "nothing/here"} {
		if _, err := backup.SizeOf(ctx, st, key); !errors.Is(err, backup.ErrNotFound) {
			t.Errorf("Size(%q) of a missing key: err = %v, want ErrNotFound", key, err)
		}
	}
}

func (s *suite) listExact(ctx context.Context, t *testing.T, st backup.Storage) {
	keys := []string{
		"metadata/tar/host_b1/1700000000/0_1700000000/metadata",
		"metadata/tar/host_b1/1700000000/1_1700000100/metadata",
		"metadata/tar/host_b10/1700000050/0_1700000050/metadata",
		"metadata/tar/host_b2/1700000200/0_1700000200/metadata",
		"metadata/tar/host_b1x",
		"metadata/tar/host_b",
		"metadata/rsync/host_b1/1/0_1/metadata",
		"metadata/tar/host_b1/1800000000/0_1800000000/metadata",
		"metadata/tar/host_b1/900000000/0_900000000/metadata",
	}
	for i, k := range keys {
		put(ctx, t, st, k, []byte(fmt.Sprint(i)))
	}
	wantList(ctx, t, st, "", "metadata")
	wantList(ctx, t, st, "metadata", "rsync", "tar")
	// Byte order, objects and directories alike.
	wantList(ctx, t, st, "metadata/tar", "host_b", "host_b1", "host_b10", "host_b1x", "host_b2")
	// host_b1 must not pick up host_b10 or host_b1x.
	wantList(ctx, t, st, "metadata/tar/host_b1", "1700000000", "1800000000", "900000000")
	wantList(ctx, t, st, "metadata/tar/host_b10", "1700000050")
	wantList(ctx, t, st, "metadata/tar/host_b1/1700000000", "0_1700000000", "1_1700000100")
	wantList(ctx, t, st, "metadata/tar/host_b1/1700000000/1_1700000100", "metadata")
	// A name that is only a prefix of existing names is not a directory.
	wantList(ctx, t, st, "metadata/tar/host_")
	wantList(ctx, t, st, "metadata/ta")
	// An object is not a directory.
	wantList(ctx, t, st, "metadata/tar/host_b1x")
}

func (s *suite) listPayload(ctx context.Context, t *testing.T, st backup.Storage) {
	dir := "data/tar/h_b/1700000000/0_1700000000"
	put(ctx, t, st, dir+"/data", []byte("payload"))
	put(ctx, t, st, dir+"/engine_metadata", []byte("state"))
	got := list(ctx, t, st, dir)
	var rest []string
	for _, n := range got {
		if !slices.Contains(s.cfg.PayloadSiblings, n) {
			rest = append(rest, n)
		}
	}
	if !slices.Equal(rest, []string{"data", "engine_metadata"}) || !slices.IsSorted(got) {
		t.Fatalf("List(%q) = %q, want [data engine_metadata] (plus %q), sorted", dir, got, s.cfg.PayloadSiblings)
	}
	wantList(ctx, t, st, "data/tar/h_b/1700000000", "0_1700000000")
}

func (s *suite) listEmpty(ctx context.Context, t *testing.T, st backup.Storage) {
	wantList(ctx, t, st, "")
	wantList(ctx, t, st, "no/such/dir")
	put(ctx, t, st, "e/sub/x", []byte("x"))
	if err := st.Delete(ctx, "e/sub/x"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	// A directory emptied by Delete lists as empty, whether or not the
	// backend keeps the directory itself.
	wantList(ctx, t, st, "e/sub")
	for _, n := range list(ctx, t, st, "e") {
		if n != "sub" {
			t.Fatalf("List(e) = unexpected %q", n)
		}
	}
}

func (s *suite) missing(ctx context.Context, t *testing.T, st backup.Storage) {
	wantNotFound(ctx, t, st, "nothing")
	wantNotFound(ctx, t, st, "no/such/key/data")
	put(ctx, t, st, "dir/obj", []byte("x"))
	// A directory is not an object, and neither is a path below an object.
	wantNotFound(ctx, t, st, "dir")
	wantNotFound(ctx, t, st, "dir/obj/below")
	wantNotFound(ctx, t, st, "dir/ob")
}

func (s *suite) concurrent(ctx context.Context, t *testing.T, st backup.Storage) {
	const writers = 6
	var wg sync.WaitGroup
	errs := make([]error, writers)
	size := int64(256<<10 + 7)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("c/w%d/data", i)
			if i%2 == 1 {
				key = fmt.Sprintf("c/w%d/obj", i)
			}
			errs[i] = st.Put(ctx, key, Generator(uint64(100+i), size))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	var want []string
	for i := range writers {
		want = append(want, fmt.Sprintf("w%d", i))
	}
	wantList(ctx, t, st, "c", want...)
	for i := range writers {
		key := fmt.Sprintf("c/w%d/data", i)
		if i%2 == 1 {
			key = fmt.Sprintf("c/w%d/obj", i)
		}
		wantHash, _, _ := HashOf(Generator(uint64(100+i), size))
		rc, err := st.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		got, n, err := HashOf(rc)
		rc.Close()
		if err != nil || got != wantHash || n != size {
			t.Fatalf("Get(%q): %d bytes, hash match %v, err %v", key, n, got == wantHash, err)
		}
	}
}

func (s *suite) deleteObject(ctx context.Context, t *testing.T, st backup.Storage) {
	put(ctx, t, st, "d/a", []byte("a"))
	put(ctx, t, st, "d/b", []byte("b"))
	if err := st.Delete(ctx, "d/a"); err != nil {
		t.Fatalf("Delete(d/a): %v", err)
	}
	wantNotFound(ctx, t, st, "d/a")
	wantList(ctx, t, st, "d", "b")
	if got := string(get(ctx, t, st, "d/b")); got != "b" {
		t.Fatalf("sibling changed: %q", got)
	}
	// Deleting what does not exist is not an error.
	for _, k := range []string{"d/a", "nothing/here", "d/b/below"} {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatalf("Delete(%q) of a missing key: %v", k, err)
		}
	}
	// A payload key goes with whatever the backend stored for it.
	put(ctx, t, st, "p/data", []byte("payload"))
	if err := st.Delete(ctx, "p/data"); err != nil {
		t.Fatalf("Delete(p/data): %v", err)
	}
	wantNotFound(ctx, t, st, "p/data")
	wantList(ctx, t, st, "p")
}

func (s *suite) deleteDir(ctx context.Context, t *testing.T, st backup.Storage) {
	keys := []string{"x/chain1/0_1/data", "x/chain1/0_1/engine_metadata", "x/chain1/1_2/data", "x/chain10/0_3/data", "x/chain1x", "x/other"}
	for _, k := range keys {
		put(ctx, t, st, k, []byte(k))
	}
	if err := st.Delete(ctx, "x/chain1"); err != nil {
		t.Fatalf("Delete(x/chain1): %v", err)
	}
	wantList(ctx, t, st, "x", "chain10", "chain1x", "other")
	wantList(ctx, t, st, "x/chain1")
	wantNotFound(ctx, t, st, "x/chain1/0_1/data")
	wantNotFound(ctx, t, st, "x/chain1/1_2/data")
	for _, k := range []string{"x/chain10/0_3/data", "x/chain1x", "x/other"} {
		if got := string(get(ctx, t, st, k)); got != k {
			t.Fatalf("Get(%q) after deleting a neighbour = %q", k, got)
		}
	}
	if err := st.Delete(ctx, "x"); err != nil {
		t.Fatalf("Delete(x): %v", err)
	}
	wantList(ctx, t, st, "")
}

func (s *suite) failedPut(ctx context.Context, t *testing.T, st backup.Storage) {
	put(ctx, t, st, "f/keep", []byte("keep"))
	for _, tc := range []struct {
		key   string
		after int64
	}{
		{"f/obj", 0},
		{"f/obj2", 1000},
		{"f/big/data", s.cfg.LargeSize / 2},
		{"f/small/data", 10},
	} {
		err := st.Put(ctx, tc.key, FailingReader(Generator(7, s.cfg.LargeSize), tc.after))
		if err == nil {
			t.Fatalf("Put(%q) of a reader failing after %d bytes succeeded", tc.key, tc.after)
		}
		if !errors.Is(err, ErrInjected) {
			t.Errorf("Put(%q) error = %v, want one wrapping the reader's error", tc.key, err)
		}
		wantNotFound(ctx, t, st, tc.key)
		dir, name := splitKey(tc.key)
		s.wantAbsentFromList(ctx, t, st, dir, name, "keep", "big", "small")
	}
	s.wantAbsentFromList(ctx, t, st, "f", "obj", "keep", "big", "small")
	s.wantAbsentFromList(ctx, t, st, "f", "obj2", "keep", "big", "small")
	// A source failing with io.ErrUnexpectedEOF (a truncated compressed
	// stream) is a failure, not the end of the stream.
	for _, key := range []string{"g/trunc/data", "g/trunc/obj"} {
		r := io.MultiReader(Generator(8, s.cfg.LargeSize/2+3), errReader{io.ErrUnexpectedEOF})
		if err := st.Put(ctx, key, r); err == nil {
			t.Fatalf("Put(%q) of a stream failing with io.ErrUnexpectedEOF succeeded", key)
		}
		wantNotFound(ctx, t, st, key)
	}
	if got := string(get(ctx, t, st, "f/keep")); got != "keep" {
		t.Fatalf("neighbour changed by a failed Put: %q", got)
	}
}

func (s *suite) cancelledPut(ctx context.Context, t *testing.T, st backup.Storage) {
	// Cancelled before the call.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := st.Put(cctx, "k/pre", strings.NewReader("x")); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	wantNotFound(ctx, t, st, "k/pre")

	// Cancelled in the middle of the stream.
	for _, key := range []string{"k/mid/data", "k/mid/obj"} {
		cctx, cancel := context.WithCancel(ctx)
		r := &callbackReader{r: Generator(9, s.cfg.LargeSize), after: s.cfg.LargeSize / 3, fn: cancel}
		err := st.Put(cctx, key, r)
		cancel()
		if err == nil {
			t.Fatalf("Put(%q) cancelled mid-stream succeeded", key)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put(%q) cancelled mid-stream: error %v does not wrap context.Canceled", key, err)
		}
		wantNotFound(ctx, t, st, key)
		dir, name := splitKey(key)
		s.wantAbsentFromList(ctx, t, st, dir, name)
	}
}

func (s *suite) cancelledCalls(ctx context.Context, t *testing.T, st backup.Storage) {
	put(ctx, t, st, "q/obj", []byte("x"))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.List(cctx, "q"); err == nil {
		t.Error("List with a cancelled context succeeded")
	}
	if rc, err := st.Get(cctx, "q/obj"); err == nil {
		_, rerr := io.ReadAll(rc)
		rc.Close()
		if rerr == nil {
			t.Error("Get and read with a cancelled context succeeded")
		}
	}
	if err := st.Delete(cctx, "q/obj"); err == nil {
		t.Error("Delete with a cancelled context succeeded")
	}
	if got := string(get(ctx, t, st, "q/obj")); got != "x" {
		t.Fatalf("object changed by cancelled calls: %q", got)
	}
}

func (s *suite) invalidKeys(ctx context.Context, t *testing.T, st backup.Storage) {
	for _, k := range []string{"", "/abs", "a//b", "../escape", "a/../../b", "a/./b", "trailing/", ".", "..", "nul\x00byte"} {
		if err := st.Put(ctx, k, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q) succeeded, want an error", k)
		}
		if rc, err := st.Get(ctx, k); err == nil {
			rc.Close()
			t.Errorf("Get(%q) succeeded, want an error", k)
		}
		if k != "" {
			if _, err := st.List(ctx, k); err == nil {
				t.Errorf("List(%q) succeeded, want an error", k)
			}
		}
		if err := st.Delete(ctx, k); err == nil {
			t.Errorf("Delete(%q) succeeded, want an error", k)
		}
	}
	wantList(ctx, t, st, "")
}

func (s *suite) str(ctx context.Context, t *testing.T, st backup.Storage) {
	if st.String() == "" {
		t.Fatal("String() is empty")
	}
}

func splitKey(key string) (dir, name string) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", key
	}
	return key[:i], key[i+1:]
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
