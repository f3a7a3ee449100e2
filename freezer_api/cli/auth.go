package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/internal/config"
)

// globalArgs are python-freezerclient's options (and cliff's), plus the
// ones every other OpenStack client has: a cloud from clouds.yaml, user
// ids, application credentials, trusts, a client key.
func globalArgs() []config.Arg {
	s := func(name, env, help string) config.Arg {
		return config.Arg{Opt: config.Opt{Name: name, Help: help}, Env: env}
	}
	secret := func(a config.Arg) config.Arg { a.Secret = true; return a }
	return []config.Arg{
		{Opt: config.Opt{Name: "version", Type: config.Bool, Help: "show program's version number and exit"}},
		{Opt: config.Opt{Name: "verbose", Help: "Increase verbosity of output. Can be repeated."}, Short: "v", Count: true},
		{Opt: config.Opt{Name: "quiet", Type: config.Bool, Help: "Suppress output except warnings and errors."}, Short: "q"},
		{Opt: config.Opt{Name: "log-file", Help: "Specify a file to log output. Disabled by default."}, Metavar: "LOG_FILE"},
		{Opt: config.Opt{Name: "help", Type: config.Bool, Help: "Show help message and exit."}, Short: "h", Hidden: true},
		{Opt: config.Opt{Name: "debug", Type: config.Bool, Help: "Show the HTTP requests and answers (secrets hidden)."}},
		s("os-cloud", "OS_CLOUD", "Cloud name in clouds.yaml"),
		s("os-auth-type", "OS_AUTH_TYPE", `Authentication type: "none" talks to --os-backup-url as project --os-project-id without Keystone (an API with auth_strategy = noauth); else the credentials given choose`),
		s("os-auth-url", "OS_AUTH_URL", "Specify identity endpoint"),
		{Opt: config.Opt{Name: "os-backup-api-version", Default: "2", Help: "Backup API version: 2"}, Env: "OS_BACKUP_API_VERSION"},
		s("os-backup-url", "OS_BACKUP_URL", "Specify the Freezer backup service endpoint to use"),
		{Opt: config.Opt{Name: "os-endpoint-type", Default: "public", Help: `Endpoint type to select: "public" or "publicURL", "internal" or "internalURL", "admin" or "adminURL"`}, Env: "OS_ENDPOINT_TYPE", Aliases: []string{"os-interface"}},
		secret(s("os-password", "OS_PASSWORD", "Password used for authentication with the OpenStack Identity service")),
		s("os-username", "OS_USERNAME", "Name used for authentication with the OpenStack Identity service"),
		s("os-user-id", "OS_USER_ID", "User ID used for authentication"),
		secret(s("os-token", "OS_TOKEN", "Specify an existing token to use instead of retrieving one via authentication")),
		s("os-project-domain-name", "OS_PROJECT_DOMAIN_NAME", "Domain name containing project"),
		s("os-project-domain-id", "OS_PROJECT_DOMAIN_ID", "OpenStack project domain ID. Defaults to env[OS_PROJECT_DOMAIN_ID]."),
		s("os-project-name", "OS_PROJECT_NAME", "Project name (tenant name)"),
		s("os-region-name", "OS_REGION_NAME", "Specify the region to use"),
		s("os-project-id", "OS_PROJECT_ID", "Project to request authorization on"),
		s("os-user-domain-name", "OS_USER_DOMAIN_NAME", "User domain name"),
		s("os-user-domain-id", "OS_USER_DOMAIN_ID", "OpenStack user domain ID. Defaults to env[OS_USER_DOMAIN_ID]."),
		s("os-application-credential-id", "OS_APPLICATION_CREDENTIAL_ID", "Application credential ID"),
		s("os-application-credential-name", "OS_APPLICATION_CREDENTIAL_NAME", "Application credential name (with a user)"),
		secret(s("os-application-credential-secret", "OS_APPLICATION_CREDENTIAL_SECRET", "Application credential secret")),
		s("os-trust-id", "OS_TRUST_ID", "Trust ID to scope the token to"),
		{Opt: config.Opt{Name: "insecure", Type: config.Bool, Help: "use freezer with insecure connections"}, Short: "k", Env: "OS_INSECURE"},
		s("os-cacert", "OS_CACERT", "Path of CA TLS certificate(s) used to verify the remote server's certificate. Without this option freezer looks for the default system CA certificates."),
		s("os-cert", "OS_CERT", "Path of a client TLS certificate"),
		s("os-key", "OS_KEY", "Path of the client TLS certificate's key"),
	}
}

// settings are the resolved connection options.
type settings struct {
	ao        gophercloud.AuthOptions
	eo        gophercloud.EndpointOpts
	tlsConfig *tls.Config
	endpoint  string // --os-backup-url
}

func (a *App) settings() (*settings, error) {
	o := a.opts
	st := &settings{endpoint: o.String("os-backup-url")}
	if cloud := o.String("os-cloud"); cloud != "" {
		popts := []clouds.ParseOption{clouds.WithCloudName(cloud)}
		add := func(name string, f func(string) clouds.ParseOption) {
			if o.Given(name) {
				popts = append(popts, f(o.String(name)))
			}
		}
		add("os-auth-url", clouds.WithIdentityEndpoint)
		add("os-username", clouds.WithUsername)
		add("os-user-id", clouds.WithUserID)
		add("os-password", clouds.WithPassword)
		add("os-token", clouds.WithToken)
		add("os-project-id", clouds.WithProjectID)
		add("os-project-name", clouds.WithProjectName)
		add("os-region-name", clouds.WithRegion)
		add("os-endpoint-type", clouds.WithEndpointType)
		add("os-cacert", clouds.WithCACertPath)
		add("os-cert", clouds.WithClientCertPath)
		add("os-key", clouds.WithClientKeyPath)
		add("os-application-credential-id", clouds.WithApplicationCredentialID)
		add("os-application-credential-secret", clouds.WithApplicationCredentialSecret)
		if o.Given("insecure") {
			popts = append(popts, clouds.WithInsecure(true))
		}
		ao, eo, tc, err := clouds.Parse(popts...)
		if err != nil {
			return nil, fmt.Errorf("reading cloud %q from clouds.yaml: %w", cloud, err)
		}
		eo.Type = client.ServiceType
		st.ao, st.eo, st.tlsConfig = ao, eo, tc
		return st, nil
	}
	authURL := o.String("os-auth-url")
	if authURL == "" {
		return nil, errorf("OS_AUTH_URL should be provided.")
	}
	ao := gophercloud.AuthOptions{IdentityEndpoint: authURL, AllowReauth: true}
	appID, appName, appSecret := o.String("os-application-credential-id"), o.String("os-application-credential-name"), o.String("os-application-credential-secret")
	switch {
	case (appID != "" || appName != "") && appSecret != "":
		ao.ApplicationCredentialID, ao.ApplicationCredentialName, ao.ApplicationCredentialSecret = appID, appName, appSecret
		if appID == "" {
			ao.UserID = o.String("os-user-id")
			if ao.UserID == "" {
				ao.Username = o.String("os-username")
				setUserDomain(&ao, o)
			}
		}
	case (o.String("os-username") != "" || o.String("os-user-id") != "") && o.String("os-password") != "":
		// With both, the id wins, as keystoneauth sends only the id
		// (openrc files often export OS_USER_ID beside OS_USERNAME).
		ao.UserID, ao.Password = o.String("os-user-id"), o.String("os-password")
		if ao.UserID == "" {
			ao.Username = o.String("os-username")
			setUserDomain(&ao, o)
		}
		ao.Scope = scope(o)
	case o.String("os-token") != "":
		ao.TokenID, ao.AllowReauth = o.String("os-token"), false
		ao.Scope = scope(o)
	default:
		return nil, errorf("The request you have made requires authentication: no credentials (OS_USERNAME and OS_PASSWORD, OS_TOKEN or an application credential) are set.")
	}
	st.ao = ao
	st.eo = gophercloud.EndpointOpts{Type: client.ServiceType, Region: o.String("os-region-name"), Availability: availability(o.String("os-endpoint-type"))}
	tc, err := tlsConfig(o.String("os-cacert"), o.String("os-cert"), o.String("os-key"), o.Bool("insecure"))
	if err != nil {
		return nil, err
	}
	st.tlsConfig = tc
	return st, nil
}

func setUserDomain(ao *gophercloud.AuthOptions, o *config.Parsed) {
	switch {
	case o.String("os-user-domain-id") != "":
		ao.DomainID = o.String("os-user-domain-id")
	case o.String("os-user-domain-name") != "":
		ao.DomainName = o.String("os-user-domain-name")
	default:
		ao.DomainID = "default"
	}
}

// scope is the project (or trust) a token is asked for; nil leaves the
// user's default project to Keystone.
func scope(o *config.Parsed) *gophercloud.AuthScope {
	switch {
	case o.String("os-trust-id") != "":
		return &gophercloud.AuthScope{TrustID: o.String("os-trust-id")}
	case o.String("os-project-id") != "":
		return &gophercloud.AuthScope{ProjectID: o.String("os-project-id")}
	case o.String("os-project-name") != "":
		s := &gophercloud.AuthScope{ProjectName: o.String("os-project-name"), DomainID: o.String("os-project-domain-id")}
		if s.DomainID == "" {
			s.DomainName = o.String("os-project-domain-name")
		}
		if s.DomainID == "" && s.DomainName == "" {
			s.DomainID = "default"
			if d := o.String("os-user-domain-id"); d != "" {
				s.DomainID = d
			} else if d := o.String("os-user-domain-name"); d != "" {
				s.DomainID, s.DomainName = "", d
			}
		}
		return s
	}
	return nil
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

func tlsConfig(cacert, cert, key string, insecure bool) (*tls.Config, error) {
	if cacert == "" && cert == "" && !insecure {
		return nil, nil
	}
	tc := &tls.Config{InsecureSkipVerify: insecure} //nolint:gosec // --insecure asks for it
	if cacert != "" {
		pem, err := os.ReadFile(cacert)
		if err != nil {
			return nil, errorf("%s", pyOSError(err, cacert))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errorf("no certificate found in %s", cacert)
		}
		tc.RootCAs = pool
	}
	if cert != "" {
		if key == "" {
			key = cert
		}
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, errorf("loading client certificate %s: %v", cert, err)
		}
		tc.Certificates = []tls.Certificate{c}
	}
	return tc, nil
}

func (a *App) httpClient(tc *tls.Config) http.Client {
	var rt http.RoundTripper
	if a.Transport != nil {
		rt = a.Transport
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if tc != nil {
			t.TLSClientConfig = tc
		}
		rt = t
	}
	if a.opts.Bool("debug") || a.verbosity >= 2 {
		rt = &debugTransport{next: rt, w: a.Stderr}
	}
	return http.Client{Transport: rt}
}

// client connects on first use, as the Python client authenticates only
// when a command reaches the API (a malformed file fails first).
func (a *App) client(ctx context.Context) (*client.Client, error) {
	if a.conn != nil || a.connErr != nil {
		return a.conn, a.connErr
	}
	a.conn, a.connErr = a.connect(ctx)
	return a.conn, a.connErr
}

func (a *App) connect(ctx context.Context) (*client.Client, error) {
	if a.opts.String("os-auth-type") == "none" {
		endpoint, project := a.opts.String("os-backup-url"), a.opts.String("os-project-id")
		if endpoint == "" || project == "" {
			return nil, errorf("--os-auth-type none needs OS_BACKUP_URL and OS_PROJECT_ID")
		}
		tc, err := tlsConfig(a.opts.String("os-cacert"), a.opts.String("os-cert"), a.opts.String("os-key"), a.opts.Bool("insecure"))
		if err != nil {
			return nil, err
		}
		hc := a.httpClient(tc)
		return client.NewNoAuth(endpoint, project, a.opts.String("os-token"), &hc)
	}
	st, err := a.settings()
	if err != nil {
		return nil, err
	}
	pc, err := openstack.NewClient(st.ao.IdentityEndpoint)
	if err != nil {
		return nil, errorf("invalid auth URL %q: %v", st.ao.IdentityEndpoint, err)
	}
	pc.HTTPClient = a.httpClient(st.tlsConfig)
	pc.UserAgent.Prepend("freezer-go/" + a.Version)
	if err := openstack.Authenticate(ctx, pc, st.ao); err != nil {
		return nil, keystoneError(err, strings.TrimRight(st.ao.IdentityEndpoint, "/")+"/auth/tokens")
	}
	projectID := ""
	if cr, ok := pc.GetAuthResult().(tokens.CreateResult); ok {
		if p, err := cr.ExtractProject(); err == nil && p != nil {
			projectID = p.ID
		}
	}
	if projectID == "" {
		projectID = a.opts.String("os-project-id")
	}
	endpoint := st.endpoint
	if endpoint == "" {
		endpoint, err = pc.EndpointLocator(st.eo)
		if err != nil {
			return nil, errorf("%s endpoint for %s service not found", strings.TrimSuffix(string(st.eo.Availability), "URL"), client.ServiceType)
		}
	}
	return client.New(&gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, Type: client.ServiceType}, projectID)
}

// keystoneError words a failed login as keystoneauth does.
func keystoneError(err error, u string) error {
	var ue gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ue) {
		var body struct {
			Error struct{ Message string } `json:"error"`
		}
		msg := strings.TrimSpace(string(ue.Body))
		if json.Unmarshal(ue.Body, &body) == nil && body.Error.Message != "" {
			msg = body.Error.Message
		}
		rid := ue.ResponseHeader.Get("X-Openstack-Request-Id")
		return errorf("%s (HTTP %d) (Request-ID: %s)", msg, ue.Actual, rid)
	}
	return connError(err, u)
}

// connError words a request that got no answer.
func connError(err error, u string) error {
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") {
		return errorf("Unable to establish connection to %s: %v", u, err)
	}
	return errorf("%v", err)
}

// pyOSError words a failed open as Python's OSError does.
func pyOSError(err error, name string) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("[Errno 2] No such file or directory: %s", strRepr(name))
	case errors.Is(err, os.ErrPermission):
		return fmt.Sprintf("[Errno 13] Permission denied: %s", strRepr(name))
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		if strings.Contains(pe.Err.Error(), "is a directory") {
			return fmt.Sprintf("[Errno 21] Is a directory: %s", strRepr(name))
		}
	}
	return err.Error()
}
