//go:build integration

package swift

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// countListings counts the container listing requests (GETs with a
// prefix) that pass through it.
type countListings struct {
	rt http.RoundTripper
	n  atomic.Int64
}

func (c *countListings) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Has("prefix") {
		c.n.Add(1)
	}
	return c.rt.RoundTrip(r)
}

// Listings ask for pages of listPage entries and stop at a short page,
// without the request for an empty page after it; a limit the server
// refuses (above its container_listing_limit: 412) falls back to the
// server's own paging. Either way every entry is listed.
func TestSwiftListingPages(t *testing.T) {
	s := newTest(t, nil)
	ctx := context.Background()
	ct := &countListings{rt: s.provider.HTTPClient.Transport}
	if ct.rt == nil {
		ct.rt = http.DefaultTransport
	}
	s.provider.HTTPClient.Transport = ct
	want := []string{}
	for n := 0; n <= 5; n++ {
		if n > 0 {
			name := fmt.Sprint("o", n)
			if err := s.Put(ctx, "d/"+name, strings.NewReader("x")); err != nil {
				t.Fatal(err)
			}
			want = append(want, name)
		}
		for _, page := range []int{2, 10001} {
			s.listPage = page
			before := ct.n.Load()
			got, err := s.List(ctx, "d")
			if err != nil {
				t.Fatalf("%d objects, page %d: %v", n, page, err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%d objects, page %d: listed %v, want %v", n, page, got, want)
			}
			if reqs := ct.n.Load() - before; page == 2 && reqs != int64(n/2+1) {
				t.Errorf("%d objects in pages of 2: %d listing requests, want %d", n, reqs, n/2+1)
			}
		}
	}
	s.listPage = 2
	names, err := s.listAll(ctx, s.name("d")+"/")
	if err != nil || len(names) != 5 {
		t.Fatalf("listAll: %v, %v", names, err)
	}
}
