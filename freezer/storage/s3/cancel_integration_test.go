//go:build integration

package s3

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// stallListings holds every object listing (GET with list-type) until the
// request's context is done or hold has passed, then lets it through: a
// listing stuck on a hung server.
type stallListings struct {
	rt   http.RoundTripper
	hold time.Duration
	on   atomic.Bool
}

func (s *stallListings) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.on.Load() && r.Method == http.MethodGet && r.URL.Query().Has("list-type") {
		select {
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-time.After(s.hold):
		}
	}
	return s.rt.RoundTrip(r)
}

// TestS3ListingsStopWithTheirContext: New, List and Delete list objects;
// when the caller's context ends during a listing the request is
// abandoned at once, rather than running on until the server answers.
func TestS3ListingsStopWithTheirContext(t *testing.T) {
	stall := &stallListings{hold: 5 * time.Second}
	wrap := func(o *Options) {
		o.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { stall.rt = rt; return stall }
	}
	s := newTest(t, wrap)
	if err := s.Put(context.Background(), "d/x", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	o := demoOptions(t, s.bucket+"/"+s.prefix)
	wrap(&o)
	stall.on.Store(true)
	defer stall.on.Store(false)
	for name, call := range map[string]func(context.Context) error{
		"New":    func(ctx context.Context) error { _, err := New(ctx, o); return err },
		"List":   func(ctx context.Context) error { _, err := s.List(ctx, "d"); return err },
		"Delete": func(ctx context.Context) error { return s.Delete(ctx, "d") },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		d := time.Since(start)
		cancel()
		if d > 2*time.Second {
			t.Errorf("%s went on for %v after its context ended at 200ms (error %v)", name, d.Round(time.Millisecond), err)
		} else if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with its context done: %v, want the context's error", name, err)
		}
	}
	stall.on.Store(false)
	if names, err := s.List(context.Background(), "d"); err != nil || len(names) != 1 {
		t.Fatalf("after the cancelled calls: List %v, %v; want [x]", names, err)
	}
}
