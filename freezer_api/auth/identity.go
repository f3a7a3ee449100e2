package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Identity is the authenticated caller.
type Identity struct {
	UserID    string
	ProjectID string // the project the token is scoped to
	DomainID  string // the user's domain
	// ProjectDomainID is the domain of ProjectID, when the token says.
	ProjectDomainID string
	Roles           []string // lower-cased role names
	ExpiresAt       time.Time
}

// HasRole reports whether the caller has the role.
func (id *Identity) HasRole(role string) bool {
	for _, r := range id.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Authenticator identifies the caller of a request.
type Authenticator interface {
	// Authenticate returns the caller's identity, or an error wrapping
	// ErrUnauthorized (no or invalid credentials) or ErrUnavailable
	// (the identity service cannot be reached).
	Authenticate(ctx context.Context, r *http.Request) (*Identity, error)
}

// Errors an Authenticator returns.
var (
	ErrUnauthorized = errors.New("the request you have made requires authentication")
	ErrUnavailable  = errors.New("the identity service is unavailable")
)

func normRoles(in []string) []string {
	out := make([]string, 0, len(in))
	for _, r := range in {
		r = strings.ToLower(strings.TrimSpace(r))
		if r != "" {
			out = append(out, r)
		}
	}
	return out
}
