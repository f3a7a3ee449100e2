package server

import (
	"context"
	"errors"
	"net/http"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/store"
)

// apiError is an error with a chosen status and title; Description is
// shown to the client.
type apiError struct {
	Status      int
	Title       string
	Description string
}

func (e *apiError) Error() string { return e.Title + ": " + e.Description }

func badRequest(desc string) error {
	return &apiError{Status: http.StatusBadRequest, Title: "Bad request format", Description: desc}
}

func forbidden() error {
	return &apiError{Status: http.StatusForbidden, Title: "Access Forbidden", Description: "You are not allowed to access this resource"}
}

var errUnauthorizedBody = []byte(`{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`)

// writeError maps an error to its status and JSON body. It is the only
// place where errors become statuses.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ve *validationError
	var mbe *http.MaxBytesError
	var se *store.Error
	status, body := 0, apiv2.Error{}
	switch {
	case errors.As(err, &ae):
		status, body = ae.Status, apiv2.Error{Title: ae.Title, Description: ae.Description}
	case errors.As(err, &ve):
		status, body = http.StatusBadRequest, apiv2.Error{Title: "Bad request format", Description: ve.msg}
	case errors.As(err, &mbe):
		status, body = http.StatusRequestEntityTooLarge, apiv2.Error{Title: "Request Entity Too Large",
			Description: "The request body is larger than the limit of this server."}
	case errors.Is(err, auth.ErrUnauthorized):
		if s.cfg.WWWAuthenticate != "" {
			w.Header().Set("WWW-Authenticate", `Keystone uri="`+s.cfg.WWWAuthenticate+`"`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(errUnauthorizedBody)
		return
	case errors.Is(err, auth.ErrUnavailable):
		logFrom(r.Context()).WithError(err).Error("identity service unavailable")
		status, body = http.StatusServiceUnavailable, apiv2.Error{Title: "Service Unavailable",
			Description: "The authentication service is not available.", RequestID: requestID(r.Context())}
	case store.Unavailable(err):
		// Upstream answers 500; 503 and Retry-After tell clients and
		// proxies that the same request may succeed in a moment.
		logFrom(r.Context()).WithError(err).Error("database unavailable")
		w.Header().Set("Retry-After", "1")
		status, body = http.StatusServiceUnavailable, apiv2.Error{Title: "Service Unavailable",
			Description: "The database is not available; retry later.", RequestID: requestID(r.Context())}
	case errors.As(err, &se):
		switch se.Kind {
		case store.KindNotFound:
			status, body = http.StatusNotFound, apiv2.Error{Title: "Not Found", Description: se.Msg}
		case store.KindExists:
			status, body = http.StatusConflict, apiv2.Error{Title: "Document already existing", Description: se.Msg}
		case store.KindUnprocessable:
			status, body = http.StatusUnprocessableEntity, apiv2.Error{Title: "Unprocessable Entity", Description: se.Msg}
		case store.KindInvalid:
			status, body = http.StatusBadRequest, apiv2.Error{Title: "Bad request format", Description: se.Msg}
		case store.KindForbidden:
			status, body = http.StatusForbidden, apiv2.Error{Title: "Access Forbidden", Description: "You are not allowed to access this resource"}
		}
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		status, body = 499, apiv2.Error{Title: "Client Closed Request"}
	}
	if status == 0 {
		logFrom(r.Context()).WithError(err).Error("request failed")
		status, body = http.StatusInternalServerError, apiv2.Error{Title: "Internal Server Error",
			Description: "An unexpected error occurred on the server.", RequestID: requestID(r.Context())}
	} else if status >= 500 {
		body.RequestID = requestID(r.Context())
	}
	writeJSON(w, status, body)
}
