package server

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/store"
)

// v2Prefix starts every per-project route.
const v2Prefix = "/v2/{project_id}"

// Config holds the server's dependencies and limits.
type Config struct {
	// Store is the database: a store.Store wrapped by jobcache.New.
	Store  Store
	Auth   auth.Authenticator
	Policy *auth.Policy
	Logger *logrus.Entry
	// MaxBodyBytes bounds request bodies (413 above it).
	MaxBodyBytes int64
	// MaxLimit caps the limit query option of lists.
	MaxLimit int
	// HealthcheckDisableFile, when it exists, makes /healthcheck answer
	// 503 (oslo.middleware's disable_by_file).
	HealthcheckDisableFile string
	// WWWAuthenticate is the Keystone URL announced on 401.
	WWWAuthenticate string
	// Trusts, when its Manager is set, makes job creation obtain a
	// Keystone trust for central schedulers ([centralized_scheduler]).
	Trusts TrustConfig
	// Metrics, if set, is where the metrics are registered; a new registry
	// otherwise.
	Metrics *prometheus.Registry
	Now     func() time.Time
}

// TrustManager obtains and releases the Keystone trusts a central
// scheduler uses to act for a job's owner (auth.Keystone implements it).
type TrustManager interface {
	EnsureTrust(ctx context.Context, req auth.TrustRequest) (string, error)
	DeleteTrust(ctx context.Context, callerToken, trustID string) error
}

// TrustConfig is the [centralized_scheduler] section.
type TrustConfig struct {
	Manager TrustManager
	Enabled bool
	// Enforce: every job gets a trust, not only jobs of central clients.
	Enforce bool
	// Roles delegated by the trust; empty means the caller's roles.
	Roles []string
}

// Server serves the Freezer v2 API.
type Server struct {
	cfg     Config
	metrics *metrics
	reg     *prometheus.Registry
	handler http.Handler
	// answers recycles the buffers job answers are encoded into (a list
	// of ten jobs is ~6 KiB, made and dropped thousands of times a second).
	answers sync.Pool
}

// maxPooledAnswer bounds what answers keeps: a rare list of thousands of
// jobs is left to the collector instead of pinning megabytes.
const maxPooledAnswer = 64 << 10

// answerBuf returns an empty buffer of at least n bytes' capacity.
func (s *Server) answerBuf(n int) []byte {
	if p, ok := s.answers.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, n)
}

// doneWith gives back a buffer from answerBuf once its bytes are written.
func (s *Server) doneWith(b []byte) {
	if cap(b) <= maxPooledAnswer {
		s.answers.Put(&b)
	}
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		cfg.Logger = logrus.NewEntry(l)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxLimit <= 0 {
		cfg.MaxLimit = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, reg: cfg.Metrics}
	s.metrics = newMetrics(cfg.Metrics, cfg.Store.Stats, cfg.Store.JobCacheStats)
	r := mux.NewRouter()
	r.SkipClean(true) // outer() normalises; mux would answer 301 instead
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, apiv2.Error{Title: "404 Not Found"})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The path exists: say which methods it has. OPTIONS answers
		// 200 with that list, as upstream's falcon does.
		w.Header().Set("Allow", strings.Join(allowedMethods(r, req), ", "))
		if req.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusMethodNotAllowed, apiv2.Error{Title: "405 Method Not Allowed"})
	})
	s.addRoot(r)
	// Routes are registered on the root router, not a subrouter: gorilla
	// subrouters answer a wrong method with 404 instead of 405. (mux is
	// pinned to v1.8.0: v1.8.1 has the same 405-to-404 regression for
	// routes that share a method.)
	s.addJobs(r)
	s.addActions(r)
	s.addSessions(r)
	s.addClients(r)
	s.addBackups(r)
	s.handler = s.outer(s.authenticateFirst(r))
	return s
}

// allowedMethods lists the methods routed for the request's path.
func allowedMethods(r *mux.Router, req *http.Request) []string {
	var out []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		probe := req.Clone(req.Context())
		probe.Method = m
		var match mux.RouteMatch
		if r.Match(probe, &match) && match.MatchErr == nil {
			out = append(out, m)
		}
	}
	return out
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) addRoot(r *mux.Router) {
	r.Methods("GET").Path("/").HandlerFunc(s.plain("/", s.versions))
	r.Methods("GET").Path("/healthcheck").HandlerFunc(s.plain("/healthcheck", s.healthcheck))
	r.Methods("GET").Path("/metrics").Handler(s.metricsHandler())
	r.Methods("GET").Path("/v2").HandlerFunc(s.route("/v2", "", s.homeDoc))
}

// openPaths answer without a token: keystonemiddleware sits behind the
// version negotiator (/) and beside the healthcheck in upstream's paste
// pipeline, and /metrics is ours, for scrapers that hold no token.
var openPaths = map[string]bool{"/": true, "/healthcheck": true, "/metrics": true}

type identityKey struct{}

// authenticateFirst authenticates every request to any other path before
// routing, as keystonemiddleware does in front of the Python service: an
// unauthenticated caller gets 401 and WWW-Authenticate whether or not the
// path exists, and learns nothing about the routes.
func (s *Server) authenticateFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		id, err := s.cfg.Auth.Authenticate(r.Context(), r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// call is the context of one authenticated request.
type call struct {
	id    *auth.Identity
	scope store.Scope // URL project, token user
	vars  map[string]string
}

// route wraps a handler with authentication and the policy check of rule
// against the URL's project ("" skips the check).
func (s *Server) route(template, rule string, h func(w http.ResponseWriter, r *http.Request, c *call) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		info, _ := r.Context().Value(keyRoute).(*routeInfo)
		if info != nil {
			info.template = template
		}
		if !acceptsJSON(r) {
			writeJSON(w, http.StatusNotAcceptable, apiv2.Error{Title: "Media type not acceptable",
				Description: "This resource only supports application/json."})
			return
		}
		// Identity comes from the Authenticator only (authenticateFirst);
		// no handler reads X-User-Id/X-Roles headers (keystonemiddleware's
		// spoofing risk).
		id, _ := r.Context().Value(identityKey{}).(*auth.Identity)
		if id == nil {
			s.writeError(w, r, auth.ErrUnauthorized)
			return
		}
		vars := mux.Vars(r)
		if p, ok := vars["project_id"]; ok && (len(p) > 64 || !idPattern.MatchString(p)) {
			writeJSON(w, http.StatusNotFound, apiv2.Error{Title: "Not Found", Description: "No such project."})
			return
		}
		c := &call{id: id, vars: vars, scope: store.Scope{ProjectID: vars["project_id"], UserID: id.UserID}}
		if info != nil {
			info.project, info.user = c.scope.ProjectID, id.UserID
		}
		if rule != "" && !s.allowed(rule, c) {
			s.writeError(w, r, forbidden())
			return
		}
		if err := h(w, r, c); err != nil {
			s.writeError(w, r, err)
		}
	}
}

func (s *Server) allowed(rule string, c *call) bool {
	return s.cfg.Policy.Enforce(rule, auth.CredsOf(c.id), map[string]string{"project_id": c.scope.ProjectID})
}

// plain wraps an unauthenticated handler.
func (s *Server) plain(template string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if info, _ := r.Context().Value(keyRoute).(*routeInfo); info != nil {
			info.template = template
		}
		h(w, r)
	}
}

func (s *Server) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
	return s.plain("/metrics", h.ServeHTTP)
}

// versions answers GET / with 300 and the one version this server has.
func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	if !acceptsJSON(r) {
		writeJSON(w, http.StatusNotAcceptable, apiv2.Error{Title: "Media type not acceptable"})
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if strings.ContainsAny(host, "/\\\"<> ") {
		host = "localhost"
	}
	writeJSON(w, http.StatusMultipleChoices, apiv2.Versions{Versions: []apiv2.Version{{
		ID: "v2", Status: "CURRENT", Updated: "2018-02-21T13:30:00",
		Links: []apiv2.Link{{Href: scheme + "://" + host + "/v2/", Rel: "self"}},
	}}})
}

// homeDoc answers GET /v2 with upstream's JSON-home document.
func (s *Server) homeDoc(w http.ResponseWriter, _ *http.Request, _ *call) error {
	doc := map[string]any{"resources": map[string]any{
		"rel/backups": map[string]any{
			"href-template": "/v2/{project_id}/backups/{backup_id}",
			"href-vars":     map[string]string{"project_id": "param/project_id", "backup_id": "param/backup_id"},
			"hints":         map[string]any{"allow": []string{"GET"}, "formats": map[string]any{"application/json": map[string]any{}}},
		},
		"rel/jobs": map[string]any{
			"href-template": "/v2/{project_id}/jobs{?all_projects,offset,limit}",
			"href-vars": map[string]string{"project_id": "param/project_id", "all_projects": "param/all_projects",
				"offset": "param/offset", "limit": "param/limit"},
			"hints": map[string]any{"allow": []string{"GET", "POST"}, "formats": map[string]any{"application/json": map[string]any{}}},
		},
		"rel/job": map[string]any{
			"href-template": "/v2/{project_id}/jobs/{job_id}",
			"href-vars":     map[string]string{"project_id": "param/project_id", "job_id": "param/job_id"},
			"hints":         map[string]any{"allow": []string{"GET", "PATCH", "POST", "DELETE"}, "formats": map[string]any{"application/json": map[string]any{}}},
		},
	}}
	b, _ := apiv2.Marshal(doc)
	w.Header().Set("Content-Type", "application/json-home")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}

// healthcheck answers "OK" when the database answers.
func (s *Server) healthcheck(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	if f := s.cfg.HealthcheckDisableFile; f != "" {
		if _, err := os.Stat(f); err == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("DISABLED BY FILE"))
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		logFrom(r.Context()).WithError(err).Warn("healthcheck: database unavailable")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("DATABASE UNAVAILABLE"))
		return
	}
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("OK"))
}
