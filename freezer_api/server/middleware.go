package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/internal/logging"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyRoute
)

func requestID(ctx context.Context) string {
	s, _ := ctx.Value(keyRequestID).(string)
	return s
}

func logFrom(ctx context.Context) *logrus.Entry { return logging.From(ctx) }

// routeInfo is filled in by the matched route so that the outer
// middleware can label metrics and logs with the route template and the
// caller.
type routeInfo struct {
	template string
	project  string
	user     string
}

var requestIDPattern = regexp.MustCompile(`^req-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("req-%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// outer wraps the router: request id, logging, metrics, panic recovery,
// body limit and path normalisation, in that order.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		rid := r.Header.Get("X-Openstack-Request-Id")
		if !requestIDPattern.MatchString(rid) {
			rid = newRequestID()
		}
		rw.Header().Set("X-Openstack-Request-Id", rid)
		info := &routeInfo{template: "unmatched"}
		entry := s.cfg.Logger.WithField("request_id", rid)
		ctx := context.WithValue(r.Context(), keyRequestID, rid)
		ctx = logging.With(ctx, entry)
		ctx = context.WithValue(ctx, keyRoute, info)
		r = r.WithContext(ctx)
		w := &statusWriter{ResponseWriter: rw}
		defer func() {
			if p := recover(); p != nil {
				entry.WithField("panic", fmt.Sprint(p)).WithField("stack", string(debug.Stack())).Error("panic while serving request")
				if w.status == 0 {
					s.writeError(w, r, fmt.Errorf("panic: %v", p))
				}
			}
			d := s.cfg.Now().Sub(start)
			status := w.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.observe(info.template, r.Method, status, d)
			f := logrus.Fields{"method": r.Method, "path": r.URL.Path, "status": status,
				"duration_ms": float64(d.Microseconds()) / 1000, "route": info.template, "bytes": w.bytes}
			if info.project != "" {
				f["project_id"], f["user_id"] = info.project, info.user
			}
			lvl := logrus.InfoLevel
			if info.template == "/healthcheck" || info.template == "/metrics" {
				lvl = logrus.DebugLevel
			}
			entry.WithFields(f).Log(lvl, "request")
		}()
		if r.Body != nil && s.cfg.MaxBodyBytes > 0 {
			if r.ContentLength > s.cfg.MaxBodyBytes {
				s.writeError(w, r, &http.MaxBytesError{Limit: s.cfg.MaxBodyBytes})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		r.URL.Path = normalizePath(r.URL.Path)
		r.URL.RawPath = ""
		next.ServeHTTP(w, r)
	})
}

// normalizePath accepts what old and new freezerclients send: duplicate
// slashes (a catalog URL ending in "/"), a trailing slash on collections,
// and the /v2/{project} prefix twice (freezerclient 5.0.0 with an endpoint
// that already contains it).
func normalizePath(p string) string {
	if strings.Contains(p, "//") {
		var b strings.Builder
		prev := byte(0)
		for i := 0; i < len(p); i++ {
			if p[i] == '/' && prev == '/' {
				continue
			}
			prev = p[i]
			b.WriteByte(p[i])
		}
		p = b.String()
	}
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p = strings.TrimRight(p, "/")
		if p == "" {
			p = "/"
		}
	}
	if strings.HasPrefix(p, "/v2/") {
		parts := strings.SplitN(p, "/", 6) // "", v2, pid, v2, pid, rest
		if len(parts) >= 5 && parts[3] == "v2" && parts[4] == parts[2] {
			p = "/v2/" + parts[2]
			if len(parts) == 6 {
				p += "/" + parts[5]
			}
		}
	}
	return p
}

// acceptsJSON is false only when the client sends an Accept header that
// rules JSON out (upstream answers 406 then).
func acceptsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	if a == "" {
		return true
	}
	a = strings.ToLower(a)
	return strings.Contains(a, "json") || strings.Contains(a, "*/*") || strings.Contains(a, "application/*")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := apiv2.Marshal(v)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"title": "Internal Server Error"}`))
		return
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON answers with a JSON document encoded already.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
