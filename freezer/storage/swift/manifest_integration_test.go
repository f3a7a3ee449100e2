//go:build integration

package swift

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage/retry"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

// shortManifest makes the real server's answers to HEAD of names ending
// in suffix report one byte, as if Swift had lost a segment, while on.
type shortManifest struct {
	rt     http.RoundTripper
	suffix string
	on     atomic.Bool
}

func (m *shortManifest) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := m.rt.RoundTrip(r)
	if err == nil && m.on.Load() && r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, m.suffix) {
		resp.Header.Set("Content-Length", "1")
	}
	return resp, err
}

// TestSwiftPutRemovesManifestOfWrongLength: when the manifest of a payload
// never reads back with the uploaded length, Put fails and the manifest is
// gone, so no partial payload is left readable at the key.
func TestSwiftPutRemovesManifestOfWrongLength(t *testing.T) {
	s := newTest(t, func(o *Options) {
		o.Retry = retry.Policy{Attempts: 2, Base: 10 * time.Millisecond, Max: 10 * time.Millisecond}
	})
	ctx := context.Background()
	sm := &shortManifest{rt: s.provider.HTTPClient.Transport, suffix: "/x/data"}
	if sm.rt == nil {
		sm.rt = http.DefaultTransport
	}
	s.provider.HTTPClient.Transport = sm
	sm.on.Store(true)
	err := s.Put(ctx, "x/data", storagetest.Generator(3, 1<<20+7))
	sm.on.Store(false)
	if err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Fatalf("Put with a manifest of the wrong length: %v, want the length error", err)
	}
	gerr := objects.Get(ctx, s.client, s.container, s.name("x/data"), nil).Err
	if !errors.Is(classify(gerr), backup.ErrNotFound) {
		t.Fatalf("after the failed Put the manifest is still there (HEAD: %v)", gerr)
	}
	if _, err := s.Get(ctx, "x/data"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("Get after the failed Put: %v, want ErrNotFound", err)
	}
}
