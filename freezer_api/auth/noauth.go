package auth

import (
	"context"
	"net/http"
	"strings"
)

// NoAuth accepts every request without a token. It is for the quick start
// and for tests, never for production: anybody who can reach the port
// acts as the configured identity, or as whatever the X-Project-Id,
// X-User-Id and X-Roles headers say when TrustHeaders is set.
type NoAuth struct {
	ProjectID    string
	UserID       string
	Roles        []string
	TrustHeaders bool
}

// Authenticate implements Authenticator.
func (n NoAuth) Authenticate(_ context.Context, r *http.Request) (*Identity, error) {
	id := &Identity{ProjectID: n.ProjectID, UserID: n.UserID, Roles: normRoles(n.Roles)}
	if n.TrustHeaders {
		if v := r.Header.Get("X-Project-Id"); v != "" {
			id.ProjectID = v
		}
		if v := r.Header.Get("X-User-Id"); v != "" {
			id.UserID = v
		}
		if v := r.Header.Get("X-Roles"); v != "" {
			id.Roles = normRoles(strings.Split(v, ","))
		}
	}
	return id, nil
}
