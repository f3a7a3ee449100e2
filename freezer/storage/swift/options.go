package swift

import (
	"fmt"
	"time"

	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/idle"
	"freezer.dev/freezer/freezer/storage/retry"
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
	// TrustID scopes the token to a Keystone trust instead of a project.
	TrustID string
	Region  string
	// EndpointType is "public", "internal" or "admin" (upstream's
	// "publicURL" spellings are accepted).
	EndpointType string
	Insecure     bool
	CACert       string // PEM file
}

// Options configures a Swift storage.
type Options struct {
	// Container is the --container value: "container[/prefix]".
	Container string
	Auth      Auth
	// StorageURL, when set, replaces the object-store endpoint from the
	// catalog (e.g. "http://host:8080/v1/AUTH_<project>").
	StorageURL string
	// SegmentSize is --max-segment-size; zero means 32 MiB.
	SegmentSize int
	// Parallel bounds the segments uploaded at once; zero means 4.
	Parallel int
	// Retry is the per-request retry policy; zero means retry.Default().
	Retry retry.Policy
	// RequestTimeout bounds waiting for an answer's headers; zero means
	// 2 minutes.
	RequestTimeout time.Duration
	// IdleTimeout fails a request whose connection moves no data for this
	// long (a stalled proxy); zero means idle.DefaultTimeout.
	IdleTimeout time.Duration
	// NoCreate opens without creating the container, for the actions that
	// only read or delete (a missing container lists as empty).
	NoCreate bool
}

// OptionsFrom maps upstream option names (v) and the OS_* environment
// (read through getenv, which may be nil) to Options. Options win over
// the environment, as in upstream.
func OptionsFrom(v storage.Values, getenv func(string) string) (Options, error) {
	g := func(names []string, envs ...string) string { return v.Or(getenv, names, envs...) }
	o := Options{
		Container: v.Get("container"),
		Auth: Auth{
			AuthURL:           g([]string{"os_auth_url"}, "OS_AUTH_URL"),
			Username:          g([]string{"os_username"}, "OS_USERNAME"),
			UserID:            g([]string{"os_user_id"}, "OS_USER_ID"),
			Password:          g([]string{"os_password"}, "OS_PASSWORD"),
			ProjectName:       g([]string{"os_project_name", "os_tenant_name"}, "OS_PROJECT_NAME", "OS_TENANT_NAME"),
			ProjectID:         g([]string{"project_id", "os_project_id", "os_tenant_id"}, "OS_PROJECT_ID", "OS_TENANT_ID"),
			UserDomainName:    g([]string{"os_user_domain_name"}, "OS_USER_DOMAIN_NAME"),
			UserDomainID:      g([]string{"os_user_domain_id"}, "OS_USER_DOMAIN_ID"),
			ProjectDomainName: g([]string{"os_project_domain_name"}, "OS_PROJECT_DOMAIN_NAME"),
			ProjectDomainID:   g([]string{"os_project_domain_id"}, "OS_PROJECT_DOMAIN_ID"),
			DomainName:        g([]string{"os_domain_name"}, "OS_DOMAIN_NAME"),
			DomainID:          g([]string{"os_domain_id"}, "OS_DOMAIN_ID"),
			Token:             g([]string{"os_token"}, "OS_TOKEN"),
			TrustID:           g([]string{"os_trust_id"}, "OS_TRUST_ID"),
			Region:            g([]string{"os_region_name"}, "OS_REGION_NAME"),
			EndpointType:      g([]string{"os_endpoint_type", "os_interface"}, "OS_ENDPOINT_TYPE", "OS_INTERFACE"),
			CACert:            g([]string{"os_cacert"}, "OS_CACERT"),
		},
		StorageURL: g([]string{"os_storage_url"}, "OS_STORAGE_URL"),
	}
	var err error
	if o.IdleTimeout, err = idle.Timeout(v); err != nil {
		return Options{}, err
	}
	if o.Container == "" {
		o.Container = "freezer_backups"
	}
	insecure := g([]string{"insecure", "os_insecure"}, "OS_INSECURE")
	if o.Auth.Insecure, err = storage.Bool(insecure, false); err != nil {
		return Options{}, fmt.Errorf("option insecure: %w", err)
	}
	if o.SegmentSize, err = storage.SegmentSize(v); err != nil {
		return Options{}, err
	}
	return o, nil
}
