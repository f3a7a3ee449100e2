package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/freezer_api/store"
)

// env is one API server on a fresh database, with noauth identities
// chosen per request through headers (X-Project-Id, X-User-Id, X-Roles).
type env struct {
	t    testing.TB
	h    http.Handler
	url  string
	st   *store.Store
	logs *bytes.Buffer
}

type envOption func(*server.Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testDatabaseURL(t), store.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pol, err := auth.NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	lg := logrus.New()
	lg.SetOutput(logs)
	lg.SetFormatter(&logrus.JSONFormatter{})
	cfg := server.Config{
		// The job cache on, every hit checked against the database: any
		// write path that leaves a cached read stale fails the test.
		Store:        jobcache.New(st, jobcache.Options{Bytes: 4 << 20, Check: true}),
		Auth:         auth.NoAuth{ProjectID: "p1", UserID: "u1", Roles: []string{"member"}, TrustHeaders: true},
		Policy:       pol,
		Logger:       logrus.NewEntry(lg),
		MaxBodyBytes: 64 << 10,
		MaxLimit:     1000,
	}
	for _, o := range opts {
		o(&cfg)
	}
	h := server.New(cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, h: h, url: srv.URL, st: st, logs: logs}
}

// who is an identity for noauth headers.
type who struct{ project, user, roles string }

var (
	memberP1 = who{"p1", "u1", "member"}
	readerP1 = who{"p1", "u3", "reader"}
	memberP2 = who{"p2", "u2", "member"}
	adminP2  = who{"p2", "adm", "admin,member"}
	svcP9    = who{"p9", "svc", "service,member"}
	noRoleP1 = who{"p1", "u4", "none"}
)

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   any
}

// call sends a request; body is a JSON string, raw bytes or nil.
func (e *env) call(as who, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Project-Id", as.project)
	req.Header.Set("X-User-Id", as.user)
	req.Header.Set("X-Roles", as.roles)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			e.t.Fatalf("%s %s: response is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return r
}

// expect checks status and that the response JSON contains want (a JSON
// document: objects are matched as subsets, arrays element by element
// and by length, scalars exactly). want "" checks the status only.
func (e *env) expect(as who, method, path string, body any, status int, want string, hdr ...string) resp {
	e.t.Helper()
	r := e.call(as, method, path, body, hdr...)
	if r.status != status {
		e.t.Fatalf("%s %s as %s: status %d, want %d; body %s", method, path, as.project, r.status, status, r.raw)
	}
	if want != "" {
		var w any
		dec := json.NewDecoder(strings.NewReader(want))
		dec.UseNumber()
		if err := dec.Decode(&w); err != nil {
			e.t.Fatalf("bad expectation %q: %v", want, err)
		}
		if err := subset(r.body, w, "$"); err != nil {
			e.t.Fatalf("%s %s: %v\n got %s", method, path, err, r.raw)
		}
	}
	return r
}

func subset(got, want any, path string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want object", path, got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s: missing", path, k)
			}
			if err := subset(gv, w[k], path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %d elements", path, got, len(w))
		}
		for i := range w {
			if err := subset(g[i], w[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("%s: got %v (%T), want %v (%T)", path, got, got, want, want)
	}
	return nil
}

// str returns a string member of a JSON object response.
func (r resp) str(key string) string {
	m, _ := r.body.(map[string]any)
	s, _ := m[key].(string)
	return s
}

// list returns the array under key of a list response.
func (r resp) list(key string) []any {
	m, _ := r.body.(map[string]any)
	l, _ := m[key].([]any)
	return l
}

// ids extracts idKey of every element of a list response.
func (r resp) ids(key, idKey string) []string {
	var out []string
	for _, e := range r.list(key) {
		m := e.(map[string]any)
		if s, ok := m[idKey].(string); ok {
			out = append(out, s)
		} else if c, ok := m["client"].(map[string]any); ok {
			out = append(out, c[idKey].(string))
		}
	}
	return out
}
