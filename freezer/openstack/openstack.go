// Package openstack is the agent's access to OpenStack services: Keystone
// v3 authentication (password, token, application credential, trust),
// endpoint selection by region and interface, TLS with a CA file, and
// bounded waits. The Swift storage and the glance mode share it.
package openstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gos "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/internal/tlsconf"
)

// Auth holds the Keystone v3 settings, upstream's --os-* options and the
// OS_* variables.
type Auth struct {
	AuthURL           string
	Username, UserID  string
	Password          string
	ProjectName       string
	ProjectID         string
	UserDomainName    string
	UserDomainID      string
	ProjectDomainName string
	ProjectDomainID   string
	// DomainName/DomainID are OS_DOMAIN_*, used for both user and project
	// domain when the specific ones are unset.
	DomainName, DomainID string
	// Token authenticates instead of a password (no re-authentication is
	// possible then).
	Token string
	// ApplicationCredential* authenticate with a Keystone application
	// credential (OS_APPLICATION_CREDENTIAL_*), which carries its own
	// project scope.
	ApplicationCredentialID     string
	ApplicationCredentialName   string
	ApplicationCredentialSecret string
	// TrustID scopes the token to a Keystone trust instead of a project.
	TrustID string
	Region  string
	// EndpointType is "public", "internal" or "admin" (upstream's
	// "publicURL" spellings are accepted).
	EndpointType string
	Insecure     bool
	CACert       string // PEM file
}

// AuthFrom maps upstream option names (v) and the OS_* environment (read
// through getenv, which may be nil) to Auth. Options win over the
// environment, as in upstream.
func AuthFrom(v storage.Values, getenv func(string) string) (Auth, error) {
	g := func(names []string, envs ...string) string { return v.Or(getenv, names, envs...) }
	a := Auth{
		AuthURL:                     g([]string{"os_auth_url"}, "OS_AUTH_URL"),
		Username:                    g([]string{"os_username"}, "OS_USERNAME"),
		UserID:                      g([]string{"os_user_id"}, "OS_USER_ID"),
		Password:                    g([]string{"os_password"}, "OS_PASSWORD"),
		ProjectName:                 g([]string{"os_project_name", "os_tenant_name"}, "OS_PROJECT_NAME", "OS_TENANT_NAME"),
		ProjectID:                   g([]string{"project_id", "os_project_id", "os_tenant_id"}, "OS_PROJECT_ID", "OS_TENANT_ID"),
		UserDomainName:              g([]string{"os_user_domain_name"}, "OS_USER_DOMAIN_NAME"),
		UserDomainID:                g([]string{"os_user_domain_id"}, "OS_USER_DOMAIN_ID"),
		ProjectDomainName:           g([]string{"os_project_domain_name"}, "OS_PROJECT_DOMAIN_NAME"),
		ProjectDomainID:             g([]string{"os_project_domain_id"}, "OS_PROJECT_DOMAIN_ID"),
		DomainName:                  g([]string{"os_domain_name"}, "OS_DOMAIN_NAME"),
		DomainID:                    g([]string{"os_domain_id"}, "OS_DOMAIN_ID"),
		Token:                       g([]string{"os_token"}, "OS_TOKEN"),
		ApplicationCredentialID:     g([]string{"os_application_credential_id"}, "OS_APPLICATION_CREDENTIAL_ID"),
		ApplicationCredentialName:   g([]string{"os_application_credential_name"}, "OS_APPLICATION_CREDENTIAL_NAME"),
		ApplicationCredentialSecret: g([]string{"os_application_credential_secret"}, "OS_APPLICATION_CREDENTIAL_SECRET"),
		TrustID:                     g([]string{"os_trust_id"}, "OS_TRUST_ID"),
		Region:                      g([]string{"os_region_name"}, "OS_REGION_NAME"),
		EndpointType:                g([]string{"os_endpoint_type", "os_interface"}, "OS_ENDPOINT_TYPE", "OS_INTERFACE"),
		CACert:                      g([]string{"os_cacert"}, "OS_CACERT"),
	}
	insecure := g([]string{"insecure", "os_insecure"}, "OS_INSECURE")
	var err error
	if a.Insecure, err = storage.Bool(insecure, false); err != nil {
		return Auth{}, fmt.Errorf("option insecure: %w", err)
	}
	return a, nil
}

// Method names the kind of authentication a selects, for messages.
func (a Auth) Method() string {
	switch {
	case a.Token != "":
		return "token"
	case a.ApplicationCredentialSecret != "":
		return "application credential"
	case a.TrustID != "":
		return "password, trust-scoped"
	}
	return "password"
}

// TokenOptions builds the Keystone v3 authentication request.
func TokenOptions(a Auth) *tokens.AuthOptions {
	ao := &tokens.AuthOptions{
		IdentityEndpoint: a.AuthURL,
		Username:         a.Username,
		UserID:           a.UserID,
		Password:         a.Password,
		TokenID:          a.Token,
		AllowReauth:      a.Token == "",
	}
	if a.ApplicationCredentialSecret != "" && a.Token == "" {
		// An application credential is scoped by itself: Keystone refuses
		// a scope beside it.
		ao.ApplicationCredentialID = a.ApplicationCredentialID
		ao.ApplicationCredentialName = a.ApplicationCredentialName
		ao.ApplicationCredentialSecret = a.ApplicationCredentialSecret
		ao.Password = ""
		if a.ApplicationCredentialID != "" {
			ao.Username, ao.UserID = "", ""
			return ao
		}
	}
	if a.UserID == "" && a.Token == "" && ao.Username != "" {
		ao.DomainID = firstOf(a.UserDomainID, a.DomainID)
		if ao.DomainID == "" {
			ao.DomainName = firstOf(a.UserDomainName, a.DomainName, "Default")
		}
	}
	if ao.ApplicationCredentialSecret != "" {
		return ao
	}
	switch {
	case a.TrustID != "":
		ao.Scope = tokens.Scope{TrustID: a.TrustID}
	case a.ProjectID != "":
		ao.Scope = tokens.Scope{ProjectID: a.ProjectID}
	case a.ProjectName != "":
		ao.Scope = tokens.Scope{ProjectName: a.ProjectName, DomainID: firstOf(a.ProjectDomainID, a.DomainID)}
		if ao.Scope.DomainID == "" {
			ao.Scope.DomainName = firstOf(a.ProjectDomainName, a.DomainName, "Default")
		}
	}
	return ao
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Availability maps an interface name ("public", "internalURL") to
// gophercloud's; anything unknown is public, as upstream's default.
func Availability(t string) gophercloud.Availability {
	switch strings.TrimSuffix(strings.ToLower(t), "url") {
	case "internal":
		return gophercloud.AvailabilityInternal
	case "admin":
		return gophercloud.AvailabilityAdmin
	}
	return gophercloud.AvailabilityPublic
}

// EndpointOpts selects a service's endpoint by a's region and interface.
func EndpointOpts(a Auth) gophercloud.EndpointOpts {
	return gophercloud.EndpointOpts{Region: a.Region, Availability: Availability(a.EndpointType)}
}

// DefaultRequestTimeout bounds waiting for a response's headers when the
// caller gives no timeout.
const DefaultRequestTimeout = 2 * time.Minute

// DefaultIdleTimeout is how long a connection to an OpenStack service may
// move no data while a request waits on it, when the caller gives none:
// then the request fails instead of hanging (a server that ends a body
// short but keeps the connection open).
const DefaultIdleTimeout = 60 * time.Second

// IdleTransport is TLSTransport whose connections fail a read or write
// that waits longer than idle (zero: DefaultIdleTimeout).
func IdleTransport(a Auth, headerTimeout, idle time.Duration) (*http.Transport, error) {
	tr, err := TLSTransport(a, headerTimeout)
	if err != nil {
		return nil, err
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return idleConn{Conn: c, idle: idle}, nil
	}
	return tr, nil
}

type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c idleConn) Read(p []byte) (int, error) {
	c.SetReadDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(p)
}

func (c idleConn) Write(p []byte) (int, error) {
	c.SetWriteDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(p)
}

// TLSTransport clones the default transport with a's CA file and
// insecure flag and the response header timeout.
func TLSTransport(a Auth, headerTimeout time.Duration) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = headerTimeout
	if tr.ResponseHeaderTimeout <= 0 {
		tr.ResponseHeaderTimeout = DefaultRequestTimeout
	}
	cfg, err := tlsconf.Config(tlsconf.Options{CAFile: a.CACert, Insecure: a.Insecure})
	if err != nil {
		return nil, err
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}

// Authenticate authenticates pc against Keystone with a.
func Authenticate(ctx context.Context, pc *gophercloud.ProviderClient, a Auth) error {
	if err := gos.AuthenticateV3(ctx, pc, TokenOptions(a), gophercloud.EndpointOpts{}); err != nil {
		return fmt.Errorf("authenticating with Keystone at %s (%s): %w", a.AuthURL, a.Method(), err)
	}
	return nil
}

// NewProvider returns an authenticated provider client whose HTTP client
// is hc (nil: one from IdleTransport with the default timeouts).
func NewProvider(ctx context.Context, a Auth, hc *http.Client) (*gophercloud.ProviderClient, error) {
	if a.AuthURL == "" {
		return nil, errors.New("no auth URL (--os-auth-url or OS_AUTH_URL)")
	}
	if hc == nil {
		tr, err := IdleTransport(a, 0, 0)
		if err != nil {
			return nil, err
		}
		hc = &http.Client{Transport: tr}
	}
	pc, err := gos.NewClient(a.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("auth URL %q: %w", a.AuthURL, err)
	}
	pc.HTTPClient = *hc
	if err := Authenticate(ctx, pc, a); err != nil {
		return nil, err
	}
	return pc, nil
}

// NewImage returns an authenticated Glance (image v2) client.
func NewImage(ctx context.Context, a Auth, hc *http.Client) (*gophercloud.ServiceClient, error) {
	pc, err := NewProvider(ctx, a, hc)
	if err != nil {
		return nil, err
	}
	sc, err := gos.NewImageV2(pc, EndpointOpts(a))
	if err != nil {
		return nil, fmt.Errorf("finding the image endpoint (region %q, interface %s): %w", a.Region, Availability(a.EndpointType), err)
	}
	return sc, nil
}
