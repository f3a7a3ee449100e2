//go:build integration

package swift

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/prefetch"
	"freezer.dev/freezer/freezer/storage/internal/resume"
	"freezer.dev/freezer/freezer/storage/retry"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

const testContainer = "freezer-go-storagetest"

func demoOptions(t testing.TB, container string) Options {
	env := testenv.Load(t)
	v := storage.Values{
		"container":              container,
		"os_auth_url":            env.Get(t, "OS_AUTH_URL"),
		"os_username":            env.Get(t, "DEMO_OS_USERNAME"),
		"os_password":            env.Get(t, "DEMO_OS_PASSWORD"),
		"os_project_name":        env.Get(t, "DEMO_OS_PROJECT_NAME"),
		"os_user_domain_name":    env.Get(t, "DEMO_OS_USER_DOMAIN_NAME"),
		"os_project_domain_name": env.Get(t, "DEMO_OS_PROJECT_DOMAIN_NAME"),
		"os_region_name":         env.Get(t, "OS_REGION_NAME"),
		"max_segment_size":       "1M",
	}
	o, err := OptionsFrom(v, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	o.Retry = retry.Policy{Attempts: 5, Base: 100 * time.Millisecond, Max: time.Second}
	return o
}

func uniq(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
}

// newTest returns a storage on a fresh prefix, removed at the end.
func newTest(t *testing.T, mod func(*Options)) *Storage {
	t.Helper()
	run := uniq(t)
	o := demoOptions(t, testContainer+"/"+run+"/root")
	if mod != nil {
		mod(&o)
	}
	ctx := context.Background()
	s, err := New(ctx, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		parent, err := New(ctx, demoOptions(t, testContainer+"/"+run))
		if err == nil {
			err = parent.Delete(ctx, "root")
		}
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return s
}

func TestSwiftConformance(t *testing.T) {
	storagetest.RunConfig(t, storagetest.Config{LargeSize: 5<<20 + 12345, PayloadSiblings: []string{"segments"}},
		func(t *testing.T) backup.Storage { return newTest(t, nil) })
}

func TestSwiftConformanceWholeContainer(t *testing.T) {
	// A container without a prefix, as most users configure it.
	storagetest.RunConfig(t, storagetest.Config{LargeSize: 3<<20 + 1, PayloadSiblings: []string{"segments"}},
		func(t *testing.T) backup.Storage {
			name := "fzgo-" + uniq(t)
			if len(name) > 200 {
				name = name[:200]
			}
			ctx := context.Background()
			s, err := New(ctx, demoOptions(t, name))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { dropContainer(t, s) })
			return s
		})
}

// Restore, info and retention open the storage with NoCreate: a container
// that does not exist stays so.
func TestSwiftMissingContainerNotCreated(t *testing.T) {
	storagetest.RunMissingRoot(t, func(t *testing.T) (backup.Storage, func() bool) {
		o := demoOptions(t, "fzgo-"+uniq(t)+"/prefix")
		o.NoCreate = true
		ctx := context.Background()
		s, err := New(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		exists := func() bool {
			err := containers.Get(ctx, s.client, s.container, nil).Err
			if err != nil && !errors.Is(classify(err), backup.ErrNotFound) {
				t.Fatalf("HEAD container: %v", err)
			}
			return err == nil
		}
		t.Cleanup(func() {
			if exists() {
				dropContainer(t, s)
			}
		})
		return s, exists
	})
}

func mustList(t *testing.T, s backup.Storage, dir string) []string {
	names, err := s.List(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestSwiftLayout checks the physical objects against upstream's Swift layout: %08d
// segments of max-segment-size under the sibling segments/, then a
// zero-byte DLO manifest naming "<container>/<prefix>/…/segments".
func TestSwiftLayout(t *testing.T) {
	s := newTest(t, nil)
	ctx := context.Background()
	ref := backup.Ref{Engine: "tar", Name: "hostA_bk1", L0: 1795627945, Level: 0, TS: 1795627945}
	size := int64(2<<20 + 100) // two full segments and a short one
	if err := s.Put(ctx, ref.DataKey(), storagetest.Generator(5, size)); err != nil {
		t.Fatal(err)
	}
	dir := s.prefix + "/data/tar/hostA_bk1/1795627945/0_1795627945"
	raw, err := s.listAll(ctx, dir+"/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir + "/data", dir + "/segments/00000000", dir + "/segments/00000001", dir + "/segments/00000002"}
	if strings.Join(raw, ",") != strings.Join(want, ",") {
		t.Fatalf("objects %q, want %q", raw, want)
	}
	for i, n := range []int64{1 << 20, 1 << 20, 100} {
		h, err := objects.Get(ctx, s.client, s.container, fmt.Sprintf("%s/segments/%08d", dir, i), nil).Extract()
		if err != nil || h.ContentLength != n {
			t.Fatalf("segment %d: %v, %d bytes, want %d", i, err, h.ContentLength, n)
		}
	}
	res := objects.Download(ctx, s.client, s.container, dir+"/data", objects.DownloadOpts{MultipartManifest: "get"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if len(body) != 0 {
		t.Fatalf("manifest has %d bytes, want 0", len(body))
	}
	h, err := objects.Get(ctx, s.client, s.container, dir+"/data", nil).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if wantM := testContainer + "/" + dir + "/segments"; h.ObjectManifest != wantM {
		t.Fatalf("X-Object-Manifest %q, want %q", h.ObjectManifest, wantM)
	}
	if h.ContentLength != size {
		t.Fatalf("manifest length %d, want %d", h.ContentLength, size)
	}
}

// TestSwiftShorterRewriteDropsStaleSegments: a second, shorter upload to
// the same key must not serve the first upload's extra segments.
func TestSwiftShorterRewriteDropsStaleSegments(t *testing.T) {
	s := newTest(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, "x/data", storagetest.Generator(1, 3<<20+5)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "x/data", strings.NewReader("short")); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "x/data")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "short" {
		t.Fatalf("read %d bytes after a shorter rewrite", len(b))
	}
}

// TestSwiftReauthentication: an expired or revoked token is renewed
// without failing the call.
func TestSwiftReauthentication(t *testing.T) {
	s := newTest(t, nil)
	ctx := context.Background()
	if err := s.Put(ctx, "a/data", storagetest.Generator(1, 2<<20+1)); err != nil {
		t.Fatal(err)
	}
	s.provider.SetToken("gAAAAA-not-a-valid-token")
	if err := s.Put(ctx, "b/data", storagetest.Generator(2, 2<<20+1)); err != nil {
		t.Fatalf("Put with an invalid token: %v", err)
	}
	s.provider.SetToken("gAAAAA-not-a-valid-token")
	if names := mustList(t, s, ""); strings.Join(names, ",") != "a,b" {
		t.Fatalf("List = %q", names)
	}
}

func TestSwiftBadCredentials(t *testing.T) {
	o := demoOptions(t, testContainer)
	o.Auth.Password = "wrong"
	if _, err := New(context.Background(), o); err == nil {
		t.Fatal("New with a wrong password succeeded")
	}
}

// forwarder is a TCP proxy in front of the Swift proxy that the test can
// take down, to play a proxy outage without touching the shared service.
type forwarder struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newForwarder(t *testing.T, target string) *forwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); f.setDown(true) })
	go f.serve()
	return f
}

func (f *forwarder) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		down := f.down
		f.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", f.target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns[c], f.conns[up] = true, true
		f.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

// setDown cuts every open connection and refuses new ones while down.
func (f *forwarder) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
	if down {
		for c := range f.conns {
			c.Close()
		}
		f.conns = map[net.Conn]bool{}
	}
}

func outageOptions(t *testing.T, fw *forwarder, p retry.Policy) func(*Options) {
	env := testenv.Load(t)
	return func(o *Options) {
		o.StorageURL = "http://" + fw.ln.Addr().String() + "/v1/AUTH_" + env.Get(t, "DEMO_OS_PROJECT_ID")
		o.Retry = p
	}
}

// TestSwiftProxyOutageRetried: the proxy goes away for a while in the
// middle of a payload upload; the upload completes after retries.
func TestSwiftProxyOutageRetried(t *testing.T) {
	fw := newForwarder(t, "127.0.0.1:8080")
	s := newTest(t, outageOptions(t, fw, retry.Policy{Attempts: 10, Base: 250 * time.Millisecond, Max: 2 * time.Second}))
	ctx := context.Background()
	size := int64(24 << 20)
	var once sync.Once
	r := &hookReader{r: storagetest.Generator(11, size), at: size / 3, fn: func() {
		once.Do(func() {
			fw.setDown(true)
			time.AfterFunc(4*time.Second, func() { fw.setDown(false) })
		})
	}}
	start := time.Now()
	if err := s.Put(ctx, "o/data", r); err != nil {
		t.Fatalf("Put across a 4 s outage: %v", err)
	}
	if d := time.Since(start); d < 4*time.Second {
		t.Fatalf("Put took %v, less than the outage: the outage was not hit", d)
	}
	want, _, _ := storagetest.HashOf(storagetest.Generator(11, size))
	rc, err := s.Get(ctx, "o/data")
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := storagetest.HashOf(rc)
	rc.Close()
	if err != nil || got != want || n != size {
		t.Fatalf("read back %d bytes, hash ok %v, err %v", n, got == want, err)
	}
}

// TestSwiftProxyOutageOutlastsRetries: when the outage outlasts the retry
// budget the Put fails with a clear error and nothing is visible.
func TestSwiftProxyOutageOutlastsRetries(t *testing.T) {
	fw := newForwarder(t, "127.0.0.1:8080")
	s := newTest(t, outageOptions(t, fw, retry.Policy{Attempts: 3, Base: 100 * time.Millisecond, Max: 200 * time.Millisecond}))
	ctx := context.Background()
	size := int64(16 << 20)
	r := &hookReader{r: storagetest.Generator(12, size), at: size / 3, fn: func() { fw.setDown(true) }}
	err := s.Put(ctx, "o/data", r)
	if err == nil {
		t.Fatal("Put during a permanent outage succeeded")
	}
	if !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), "segment") {
		t.Errorf("error does not say what failed: %v", err)
	}
	fw.setDown(false)
	if _, err := s.Get(ctx, "o/data"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("Get after a failed Put: %v, want ErrNotFound", err)
	}
}

type hookReader struct {
	r    io.Reader
	at   int64
	read int64
	fn   func()
}

func (h *hookReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.read += int64(n)
	if h.read >= h.at {
		h.fn()
	}
	return n, err
}

// TestSwiftDownloadResumesAfterOutage: the proxy goes away while an object
// is being read; the reader carries on (a plain object resumes with a
// Range request from the byte reached, a payload's segment chunks are
// fetched again) and the bytes read are exactly the object.
func TestSwiftDownloadResumesAfterOutage(t *testing.T) {
	fw := newForwarder(t, "127.0.0.1:8080")
	s := newTest(t, outageOptions(t, fw, retry.Policy{Attempts: 10, Base: 250 * time.Millisecond, Max: 2 * time.Second}))
	ctx := context.Background()
	size := int64(24 << 20)
	for _, key := range []string{"r/blob", "r/data"} {
		if err := s.Put(ctx, key, storagetest.Generator(13, size)); err != nil {
			t.Fatal(err)
		}
		rc, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		cut := &hookReader{r: rc, at: size / 3, fn: func() {
			once.Do(func() {
				fw.setDown(true)
				time.AfterFunc(2*time.Second, func() { fw.setDown(false) })
			})
		}}
		got, n, err := storagetest.HashOf(cut)
		if err != nil {
			t.Fatalf("%s: read across an outage failed after %d bytes: %v", key, n, err)
		}
		want, _, _ := storagetest.HashOf(storagetest.Generator(13, size))
		if n != size || got != want {
			t.Fatalf("%s: read %d bytes (want %d), hash ok %v", key, n, size, got == want)
		}
		var again int64
		switch r := rc.(type) {
		case *resume.Reader:
			again = int64(r.Resumes)
		case *prefetch.Reader:
			again = r.Retries()
		default:
			t.Fatalf("%s: reader %T", key, rc)
		}
		rc.Close()
		if again == 0 {
			t.Fatalf("%s: the outage did not cut the download: nothing was fetched again", key)
		}
	}
}

// A payload is read through the parallel segment reader, with segments of
// an odd total size. Each segment is checked against the listing's MD5
// (the mismatch case is in package prefetch's tests), unless the caller
// checks the whole stream itself.
func TestSwiftPayloadReadInParallelSegments(t *testing.T) {
	s := newTest(t, func(o *Options) { o.SegmentSize = 1 << 20 })
	ctx := context.Background()
	size := int64(5<<20 + 123)
	if err := s.Put(ctx, "c/data", storagetest.Generator(17, size)); err != nil {
		t.Fatal(err)
	}
	want, _, _ := storagetest.HashOf(storagetest.Generator(17, size))
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		verified int
	}{
		{"segment MD5s checked", ctx, 6},
		{"caller checks the stream", backup.WithCallerChecksum(ctx), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := s.Get(tc.ctx, "c/data")
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, n, err := storagetest.HashOf(rc)
			if err != nil || n != size || got != want {
				t.Fatalf("read %d bytes, hash ok %v, %v", n, got == want, err)
			}
			pr, ok := rc.(*prefetch.Reader)
			if !ok {
				t.Fatalf("payload read through %T, not the parallel segment reader", rc)
			}
			if v := pr.Verified(); v != tc.verified {
				t.Errorf("%d segments checked against their MD5, want %d", v, tc.verified)
			}
		})
	}
}

func newBench(b *testing.B) *Storage {
	o := demoOptions(b, testContainer+"/bench")
	o.SegmentSize = 32 << 20
	s, err := New(context.Background(), o)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// dropContainer empties and deletes a test's own container.
func dropContainer(t *testing.T, s *Storage) {
	ctx := context.Background()
	for _, n := range mustList(t, s, "") {
		if err := s.Delete(ctx, n); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	if err := containers.Delete(ctx, s.client, s.container).Err; err != nil {
		t.Errorf("cleanup: deleting container %s: %v", s.container, err)
	}
}
