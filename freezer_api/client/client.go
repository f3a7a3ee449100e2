package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// ServiceType is the Keystone catalog type of freezer-api.
const ServiceType = "backup"

// Client talks to one project of a freezer-api. It is safe for concurrent
// use.
type Client struct {
	sc        *gophercloud.ServiceClient
	base      string // endpoint root, without /v2/...
	projectID string
}

// New wraps an existing service client whose Endpoint is the freezer-api
// endpoint (root, root + "/", or ".../v2/<project>" are all accepted).
func New(sc *gophercloud.ServiceClient, projectID string) (*Client, error) {
	if projectID == "" {
		return nil, errors.New("creating freezer-api client: no project id")
	}
	base, err := endpointRoot(sc.Endpoint)
	if err != nil {
		return nil, err
	}
	return &Client{sc: sc, base: base, projectID: projectID}, nil
}

// NewNoAuth builds a client for a fixed endpoint that sends no token (or
// the fixed token given, e.g. OS_TOKEN with OS_BACKUP_URL). httpClient may
// be nil.
func NewNoAuth(endpoint, projectID, token string, httpClient *http.Client) (*Client, error) {
	pc := &gophercloud.ProviderClient{}
	if httpClient != nil {
		pc.HTTPClient = *httpClient
	}
	pc.UserAgent.Prepend("freezer-go")
	if token != "" {
		pc.SetToken(token)
	}
	return New(&gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, Type: ServiceType}, projectID)
}

// AuthOptions are the Keystone settings of a client, named after the OS_*
// variables they usually come from.
type AuthOptions struct {
	AuthURL           string
	Username          string
	UserID            string
	Password          string
	Token             string
	ProjectID         string
	ProjectName       string
	ProjectDomainID   string
	ProjectDomainName string
	UserDomainID      string
	UserDomainName    string
	TrustID           string
	RegionName        string
	// Interface is public, internal or admin ("publicURL" etc. accepted).
	Interface string
	// Endpoint, when set, is used instead of the catalog (OS_BACKUP_URL).
	Endpoint   string
	HTTPClient *http.Client
}

// Authenticate logs in to Keystone and returns a client for the project
// the token is scoped to; the endpoint comes from opts.Endpoint or the
// catalog. Tokens are renewed automatically when they expire.
func Authenticate(ctx context.Context, opts AuthOptions) (*Client, error) {
	if opts.AuthURL == "" {
		if opts.Endpoint == "" {
			return nil, errors.New("authenticating: neither an auth URL (OS_AUTH_URL) nor a freezer-api endpoint (OS_BACKUP_URL) is set")
		}
		// No Keystone: a fixed endpoint, optionally with a fixed token.
		if opts.ProjectID == "" {
			return nil, errors.New("creating freezer-api client: a project id (OS_PROJECT_ID) is needed without Keystone")
		}
		return NewNoAuth(opts.Endpoint, opts.ProjectID, opts.Token, opts.HTTPClient)
	}
	ao := gophercloud.AuthOptions{
		IdentityEndpoint: opts.AuthURL,
		Username:         opts.Username,
		UserID:           opts.UserID,
		Password:         opts.Password,
		TokenID:          opts.Token,
		AllowReauth:      opts.Token == "",
	}
	// A user domain goes with a user name only (with a user id or a token
	// Keystone refuses one). It takes a domain's id or its name, not both:
	// the id wins; neither means "default", as every OpenStack client
	// assumes.
	if opts.Username != "" {
		switch {
		case opts.UserDomainID != "":
			ao.DomainID = opts.UserDomainID
		case opts.UserDomainName != "":
			ao.DomainName = opts.UserDomainName
		default:
			ao.DomainID = "default"
		}
	}
	switch {
	case opts.TrustID != "":
		ao.Scope = &gophercloud.AuthScope{TrustID: opts.TrustID}
	case opts.ProjectID != "":
		ao.Scope = &gophercloud.AuthScope{ProjectID: opts.ProjectID}
	case opts.ProjectName != "":
		// A project name needs a domain too: the project's, else the
		// user's (defaulted above), else "default".
		ao.Scope = &gophercloud.AuthScope{ProjectName: opts.ProjectName, DomainID: opts.ProjectDomainID}
		if ao.Scope.DomainID == "" {
			ao.Scope.DomainName = opts.ProjectDomainName
		}
		if ao.Scope.DomainID == "" && ao.Scope.DomainName == "" {
			ao.Scope.DomainID, ao.Scope.DomainName = ao.DomainID, ao.DomainName
		}
		if ao.Scope.DomainID == "" && ao.Scope.DomainName == "" {
			ao.Scope.DomainID = "default"
		}
	}
	pc, err := openstack.NewClient(opts.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("creating identity client: %w", err)
	}
	if opts.HTTPClient != nil {
		pc.HTTPClient = *opts.HTTPClient
	}
	pc.UserAgent.Prepend("freezer-go")
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, fmt.Errorf("authenticating to %s: %w", opts.AuthURL, err)
	}
	projectID := opts.ProjectID
	if cr, ok := pc.GetAuthResult().(tokens.CreateResult); ok {
		if p, err := cr.ExtractProject(); err == nil && p != nil && p.ID != "" {
			projectID = p.ID
		}
	}
	endpoint := opts.Endpoint
	if endpoint == "" {
		eo := gophercloud.EndpointOpts{Type: ServiceType, Region: opts.RegionName, Availability: availability(opts.Interface)}
		endpoint, err = pc.EndpointLocator(eo)
		if err != nil {
			return nil, fmt.Errorf("finding the %q endpoint in the catalog: %w", ServiceType, err)
		}
	}
	return New(&gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, Type: ServiceType}, projectID)
}

func availability(iface string) gophercloud.Availability {
	switch strings.TrimSuffix(strings.ToLower(iface), "url") {
	case "internal":
		return gophercloud.AvailabilityInternal
	case "admin":
		return gophercloud.AvailabilityAdmin
	default:
		return gophercloud.AvailabilityPublic
	}
}

var versionSuffix = regexp.MustCompile(`/v[12](/[^/]*)?/*$`)

// endpointRoot turns any of the endpoint spellings clients meet (root,
// root with a slash, ".../v2", ".../v2/<project>") into the root URL.
func endpointRoot(endpoint string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("invalid freezer-api endpoint %q", endpoint)
	}
	p := versionSuffix.ReplaceAllString(u.Path, "")
	u.Path = strings.TrimRight(p, "/")
	u.RawPath = ""
	return u.String(), nil
}

// ProjectID is the project whose resources the client addresses.
func (c *Client) ProjectID() string { return c.projectID }

// Endpoint is the freezer-api root URL in use.
func (c *Client) Endpoint() string { return c.base }

// ForProject returns a client for another project on the same connection
// (a central scheduler posting into its tenants' projects).
func (c *Client) ForProject(projectID string) *Client {
	cp := *c
	cp.projectID = projectID
	return &cp
}

// Token is the current Keystone token ("" without authentication).
func (c *Client) Token() string { return c.sc.ProviderClient.Token() }

func (c *Client) url(parts ...string) string {
	var b strings.Builder
	b.WriteString(c.base)
	b.WriteString("/v2/")
	b.WriteString(url.PathEscape(c.projectID))
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// StatusError is returned for an answer with an unexpected HTTP status.
type StatusError struct {
	Method, URL string
	Status      int
	Title       string
	Description string
	Body        string
}

func (e *StatusError) Error() string {
	msg := e.Description
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = strings.TrimSpace(e.Body)
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, msg)
}

// StatusCode is the HTTP status of the answer.
func (e *StatusError) StatusCode() int { return e.Status }

// IsStatus reports whether err is an API answer with the given status.
func IsStatus(err error, status int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == status
}

// IsNotFound reports a 404 answer.
func IsNotFound(err error) bool { return IsStatus(err, http.StatusNotFound) }
