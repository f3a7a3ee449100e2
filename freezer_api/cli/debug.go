package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// debugTransport prints each request and its answer (--debug) the way
// keystoneauth's debug log does, with tokens, passwords and secrets
// replaced by "***".
type debugTransport struct {
	next http.RoundTripper
	w    io.Writer
}

var secretHeaders = map[string]bool{"X-Auth-Token": true, "X-Subject-Token": true, "X-Service-Token": true, "Authorization": true}

// secretFields matches the JSON members whose values are secrets:
// passwords and application credential secrets in login bodies, a token
// id when one is exchanged for another.
var secretFields = regexp.MustCompile(`("(?:password|secret|id)"\s*:\s*)"[^"]*"`)

// redactBody shortens a body and hides its secrets; in a login request
// even ids are hidden, as "token": {"id": ...} is a credential there.
func redactBody(b []byte, login bool) string {
	s := string(b)
	if len(s) > 4096 {
		s = s[:4096] + "...(truncated)"
	}
	if login {
		return secretFields.ReplaceAllString(s, `$1"***"`)
	}
	return passwordField.ReplaceAllString(s, `$1"***"`)
}

var passwordField = regexp.MustCompile(`("(?:password|secret)"\s*:\s*)"[^"]*"`)

func headerLines(h http.Header) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := strings.Join(h[k], ", ")
		if secretHeaders[http.CanonicalHeaderKey(k)] {
			v = "***"
		}
		fmt.Fprintf(&b, " -H %q", k+": "+v)
	}
	return b.String()
}

func (d *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	line := fmt.Sprintf("REQ: curl -g -i -X %s %s%s", req.Method, req.URL, headerLines(req.Header))
	if len(body) > 0 {
		line += " -d '" + redactBody(body, strings.HasSuffix(req.URL.Path, "/auth/tokens")) + "'"
	}
	fmt.Fprintln(d.w, line)
	start := time.Now()
	resp, err := d.next.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(d.w, "RESP: error after %v: %v\n", time.Since(start).Round(time.Millisecond), err)
		return nil, err
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	fmt.Fprintf(d.w, "RESP: [%d] %s%s (%v)\n", resp.StatusCode, req.URL, headerLines(resp.Header), time.Since(start).Round(time.Millisecond))
	if len(rb) > 0 {
		fmt.Fprintf(d.w, "RESP BODY: %s\n", redactBody(rb, false))
	}
	return resp, nil
}
