package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

func malformed() error {
	return &apiError{Status: http.StatusBadRequest, Title: "Malformed JSON",
		Description: "Could not decode the request body. The JSON was incorrect or not encoded as UTF-8."}
}

func missingBody() error {
	return &apiError{Status: http.StatusBadRequest, Title: "Bad request format", Description: "Missing request body"}
}

// readBody returns the request body; nil when there is none.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, &apiError{Status: http.StatusBadRequest, Title: "Bad request", Description: "Could not read the request body."}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return b, nil
}

// decodeAny parses JSON with numbers kept exact; exactly one value.
func decodeAny(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, malformed()
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed()
	}
	return v, nil
}

// decodeObject reads a required JSON object body.
func decodeObject(r *http.Request) (map[string]any, []byte, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, nil, err
	}
	if b == nil {
		return nil, nil, missingBody()
	}
	v, err := decodeAny(b)
	if err != nil {
		return nil, nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, badRequest(fmt.Sprintf("%s is not of type 'object'", pyRepr(v)))
	}
	return m, b, nil
}

// into converts a validated generic document into a wire type.
func into(m any, out any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("re-encoding request: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return badRequest(err.Error())
	}
	return nil
}

// parsePage reads limit and offset: missing or 0 limit means 10, as
// upstream; negative values are rejected and limit is capped.
func (s *Server) parsePage(r *http.Request) (store.Page, error) {
	p := store.Page{Limit: 10}
	q := r.URL.Query()
	for _, name := range []string{"limit", "offset"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, &apiError{Status: http.StatusBadRequest, Title: "Invalid parameter",
				Description: fmt.Sprintf("The %q parameter is invalid. The value must be an integer.", name)}
		}
		if n < 0 {
			return p, &apiError{Status: http.StatusBadRequest, Title: "Invalid parameter",
				Description: fmt.Sprintf("The %q parameter is invalid. The value must be at least 0.", name)}
		}
		if name == "limit" && n > 0 {
			p.Limit = min(n, s.cfg.MaxLimit)
		}
		if name == "offset" {
			p.Offset = n
		}
	}
	return p, nil
}

// parseBool reads a boolean query option the way falcon does.
func parseBool(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "":
		return false, nil
	case "true", "True", "TRUE", "1", "yes", "on", "y", "t":
		return true, nil
	case "false", "False", "FALSE", "0", "no", "off", "n", "f":
		return false, nil
	}
	return false, &apiError{Status: http.StatusBadRequest, Title: "Invalid parameter",
		Description: fmt.Sprintf("The %q parameter is invalid. The value must be a boolean.", name)}
}

// parseSearch reads the optional search body of a list request (clients
// send it on GET).
func parseSearch(r *http.Request) (store.Filter, error) {
	b, err := readBody(r)
	if err != nil || b == nil {
		return store.Filter{}, err
	}
	v, err := decodeAny(b)
	if err != nil {
		return store.Filter{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return store.Filter{}, badRequest("the search body must be an object")
	}
	var s apiv2.Search
	for _, k := range []string{"match", "match_not"} {
		raw, ok := m[k]
		if !ok || raw == nil {
			continue
		}
		list, ok := raw.([]any)
		if !ok {
			return store.Filter{}, badRequest(fmt.Sprintf("%q must be a list of objects", k))
		}
		for _, e := range list {
			o, ok := e.(map[string]any)
			if !ok {
				return store.Filter{}, badRequest(fmt.Sprintf("%q must be a list of objects", k))
			}
			if k == "match" {
				s.Match = append(s.Match, o)
			} else {
				s.MatchNot = append(s.MatchNot, o)
			}
		}
	}
	return store.ParseSearch(s), nil
}
