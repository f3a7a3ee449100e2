package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"freezer.dev/freezer/internal/tlsconf"
)

// KeystoneConfig is the [keystone_authtoken] subset freezer-api uses.
type KeystoneConfig struct {
	AuthURL           string // auth_url (falls back to www_authenticate_uri)
	Username          string
	Password          string
	ProjectName       string
	UserDomainName    string
	ProjectDomainName string
	// UserDomainID and ProjectDomainID, when set, win over the names (as
	// deployment tools often write project_domain_id = default).
	UserDomainID    string
	ProjectDomainID string
	RegionName      string
	// TLS are the cafile, certfile, keyfile and insecure settings for
	// Keystone (ignored when HTTPClient is set).
	TLS tlsconf.Options
	// CacheTime bounds how long a validated token is trusted without asking
	// Keystone again (keystonemiddleware's token_cache_time, 300 s).
	CacheTime time.Duration
	// MaxCached bounds the cache's size.
	MaxCached  int
	HTTPClient *http.Client
	Now        func() time.Time
}

// Keystone validates tokens against Keystone v3 with a service user.
type Keystone struct {
	identity *gophercloud.ServiceClient
	cfg      KeystoneConfig
	now      func() time.Time

	mu       sync.Mutex
	cache    map[[32]byte]cacheEntry
	inflight map[[32]byte]*validation // one Keystone call per token at a time
	calls    int                      // validations sent to Keystone

	serviceUserID string // trustee of the trusts made for central schedulers
}

// validation is one token check in progress; concurrent requests with the
// same token wait for it instead of asking Keystone again. Without this a
// burst of requests with one token (a scheduler fleet, a dashboard, a load
// test) at the moment its cache entry expires sends as many validations to
// Keystone as there are requests, and Keystone's few workers turn that into
// timeouts.
type validation struct {
	done chan struct{}
	id   *Identity
	err  error
}

type cacheEntry struct {
	id      *Identity // nil: the token was invalid
	validTo time.Time
}

// negativeCacheTime is how long an invalid token is remembered, so that a
// client retrying a bad token does not hammer Keystone.
const negativeCacheTime = 10 * time.Second

// NewKeystone authenticates the service user and returns a validator.
func NewKeystone(ctx context.Context, cfg KeystoneConfig) (*Keystone, error) {
	if cfg.AuthURL == "" {
		return nil, fmt.Errorf("[keystone_authtoken] auth_url is not set")
	}
	if cfg.CacheTime <= 0 {
		cfg.CacheTime = 300 * time.Second
	}
	if cfg.MaxCached <= 0 {
		cfg.MaxCached = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pc, err := openstack.NewClient(cfg.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("creating identity client for %s: %w", cfg.AuthURL, err)
	}
	if cfg.HTTPClient != nil {
		pc.HTTPClient = *cfg.HTTPClient
	} else {
		tc, err := tlsconf.Config(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("[keystone_authtoken] TLS settings: %w", err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		pc.HTTPClient = http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	opts := serviceAuthOptions(cfg)
	if err := openstack.Authenticate(ctx, pc, opts); err != nil {
		return nil, fmt.Errorf("authenticating the freezer-api service user %q at %s: %w", cfg.Username, cfg.AuthURL, err)
	}
	ic, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{Region: cfg.RegionName})
	if err != nil {
		return nil, fmt.Errorf("finding the identity endpoint: %w", err)
	}
	// Validate against the configured URL, not whatever the catalog says:
	// the catalog's public URL may be unreachable from here.
	ic.Endpoint = identityV3URL(cfg.AuthURL)
	ic.ResourceBase = ic.Endpoint
	k := &Keystone{identity: ic, cfg: cfg, now: cfg.Now, cache: map[[32]byte]cacheEntry{}, inflight: map[[32]byte]*validation{}}
	if cr, ok := pc.GetAuthResult().(tokens.CreateResult); ok {
		if u, err := cr.ExtractUser(); err == nil && u != nil {
			k.serviceUserID = u.ID
		}
	}
	return k, nil
}

// serviceAuthOptions are the service user's credentials: Keystone takes
// either a domain's id or its name, and the id wins when both are set.
func serviceAuthOptions(cfg KeystoneConfig) gophercloud.AuthOptions {
	opts := gophercloud.AuthOptions{
		IdentityEndpoint: cfg.AuthURL,
		Username:         cfg.Username,
		Password:         cfg.Password,
		AllowReauth:      true,
		Scope:            &gophercloud.AuthScope{ProjectName: cfg.ProjectName},
	}
	if cfg.UserDomainID != "" {
		opts.DomainID = cfg.UserDomainID
	} else {
		opts.DomainName = cfg.UserDomainName
	}
	if cfg.ProjectDomainID != "" {
		opts.Scope.DomainID = cfg.ProjectDomainID
	} else {
		opts.Scope.DomainName = cfg.ProjectDomainName
	}
	return opts
}

type tokenBody struct {
	ExpiresAt time.Time `json:"expires_at"`
	User      struct {
		ID     string `json:"id"`
		Domain struct {
			ID string `json:"id"`
		} `json:"domain"`
	} `json:"user"`
	Project *struct {
		ID     string `json:"id"`
		Domain struct {
			ID string `json:"id"`
		} `json:"domain"`
	} `json:"project"`
	Roles []struct {
		Name string `json:"name"`
	} `json:"roles"`
}

// Authenticate implements Authenticator.
func (k *Keystone) Authenticate(ctx context.Context, r *http.Request) (*Identity, error) {
	tok := r.Header.Get("X-Auth-Token")
	if tok == "" {
		return nil, ErrUnauthorized
	}
	key := sha256.Sum256([]byte(tok))
	now := k.now()
	k.mu.Lock()
	if e, ok := k.cache[key]; ok && now.Before(e.validTo) {
		k.mu.Unlock()
		if e.id == nil {
			return nil, ErrUnauthorized
		}
		return e.id, nil
	}
	v, waiting := k.inflight[key]
	if !waiting {
		v = &validation{done: make(chan struct{})}
		k.inflight[key] = v
		k.calls++
	}
	k.mu.Unlock()
	if !waiting {
		// The check outlives the request that started it: others are
		// waiting on it, and one client hanging up must not fail them.
		vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), validateTimeout)
		v.id, v.err = k.validate(vctx, tok, key, now)
		cancel()
		k.mu.Lock()
		delete(k.inflight, key)
		k.mu.Unlock()
		close(v.done)
	}
	select {
	case <-v.done:
		return v.id, v.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for token validation: %v", ErrUnavailable, ctx.Err())
	}
}

// validateTimeout bounds one validation call to Keystone.
const validateTimeout = 30 * time.Second

// validate asks Keystone about tok and caches the answer under key.
func (k *Keystone) validate(ctx context.Context, tok string, key [32]byte, now time.Time) (*Identity, error) {
	res := tokens.Get(ctx, k.identity, tok)
	if res.Err != nil {
		if gophercloud.ResponseCodeIs(res.Err, http.StatusNotFound) || gophercloud.ResponseCodeIs(res.Err, http.StatusUnauthorized) {
			k.store(key, cacheEntry{validTo: now.Add(negativeCacheTime)})
			return nil, ErrUnauthorized
		}
		return nil, fmt.Errorf("%w: validating token: %v", ErrUnavailable, res.Err)
	}
	var body tokenBody
	if err := res.ExtractInto(&body); err != nil {
		return nil, fmt.Errorf("%w: decoding token: %v", ErrUnavailable, err)
	}
	if body.Project == nil || body.Project.ID == "" {
		// Domain- and system-scoped tokens have no project; every
		// freezer route is per project.
		return nil, fmt.Errorf("%w: token is not scoped to a project", ErrUnauthorized)
	}
	id := &Identity{UserID: body.User.ID, DomainID: body.User.Domain.ID, ProjectID: body.Project.ID,
		ProjectDomainID: body.Project.Domain.ID, ExpiresAt: body.ExpiresAt}
	for _, ro := range body.Roles {
		id.Roles = append(id.Roles, ro.Name)
	}
	id.Roles = normRoles(id.Roles)
	if !body.ExpiresAt.IsZero() && !now.Before(body.ExpiresAt) {
		return nil, ErrUnauthorized
	}
	validTo := now.Add(k.cfg.CacheTime)
	if !body.ExpiresAt.IsZero() && body.ExpiresAt.Before(validTo) {
		validTo = body.ExpiresAt
	}
	k.store(key, cacheEntry{id: id, validTo: validTo})
	return id, nil
}

func (k *Keystone) store(key [32]byte, e cacheEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.cache) >= k.cfg.MaxCached {
		now := k.now()
		for kk, v := range k.cache {
			if !now.Before(v.validTo) {
				delete(k.cache, kk)
			}
		}
		// Still full: drop arbitrary entries; they are re-validated on use.
		for kk := range k.cache {
			if len(k.cache) < k.cfg.MaxCached {
				break
			}
			delete(k.cache, kk)
		}
	}
	k.cache[key] = e
}

// Validations reports how many token validations were sent to Keystone.
func (k *Keystone) Validations() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.calls
}

// CacheLen reports the number of cached tokens (for tests and metrics).
func (k *Keystone) CacheLen() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.cache)
}

// IsUnavailable reports an identity-service failure (as opposed to a bad
// token).
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// identityV3URL turns an auth_url as operators write it (with or without
// "/v3": devstack writes http://host/identity, many files http://host:5000)
// into the Identity v3 endpoint, as keystonemiddleware does.
func identityV3URL(authURL string) string {
	u := gophercloud.NormalizeURL(authURL)
	if strings.HasSuffix(u, "/v3/") {
		return u
	}
	return u + "v3/"
}
