//go:build integration

package auth_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// userToken logs in as one of the test environment's users (DEMO, OTHER,
// ADMIN) and returns a project-scoped token.
func userToken(t *testing.T, env *testenv.Env, who string) string {
	t.Helper()
	pc, err := openstack.AuthenticatedClient(context.Background(), gophercloud.AuthOptions{
		IdentityEndpoint: env.Get(t, "OS_AUTH_URL"),
		Username:         env.Get(t, who+"_OS_USERNAME"),
		Password:         env.Get(t, who+"_OS_PASSWORD"),
		DomainName:       env.Get(t, who+"_OS_USER_DOMAIN_NAME"),
		Scope:            &gophercloud.AuthScope{ProjectName: env.Get(t, who+"_OS_PROJECT_NAME"), DomainName: env.Get(t, who+"_OS_PROJECT_DOMAIN_NAME")},
	})
	if err != nil {
		t.Fatalf("logging in as %s: %v", who, err)
	}
	tok, err := pc.GetAuthResult().ExtractTokenID()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newKeystone(t *testing.T, env *testenv.Env, now func() time.Time) *auth.Keystone {
	t.Helper()
	k, err := auth.NewKeystone(context.Background(), auth.KeystoneConfig{
		AuthURL:           env.Get(t, "OS_AUTH_URL"),
		Username:          env.Get(t, "FREEZER_SVC_USERNAME"),
		Password:          env.Get(t, "FREEZER_SVC_PASSWORD"),
		ProjectName:       env.Get(t, "FREEZER_SVC_PROJECT_NAME"),
		UserDomainName:    "Default",
		ProjectDomainName: "Default",
		CacheTime:         time.Minute,
		Now:               now,
	})
	if err != nil {
		t.Fatalf("service user login: %v", err)
	}
	return k
}

// Deployment tools often name the service user's domains by id
// (project_domain_id = default); the id wins over the names.
func TestKeystoneServiceUserDomainIDs(t *testing.T) {
	env := testenv.Load(t)
	cfg := auth.KeystoneConfig{
		AuthURL:           env.Get(t, "OS_AUTH_URL"),
		Username:          env.Get(t, "FREEZER_SVC_USERNAME"),
		Password:          env.Get(t, "FREEZER_SVC_PASSWORD"),
		ProjectName:       env.Get(t, "FREEZER_SVC_PROJECT_NAME"),
		UserDomainName:    "NoSuchDomain",
		ProjectDomainName: "NoSuchDomain",
		UserDomainID:      "default",
		ProjectDomainID:   "default",
	}
	if _, err := auth.NewKeystone(context.Background(), cfg); err != nil {
		t.Fatalf("service user login with domain ids: %v", err)
	}
	cfg.UserDomainID, cfg.ProjectDomainID = "", ""
	if _, err := auth.NewKeystone(context.Background(), cfg); err == nil {
		t.Fatal("login in a domain that does not exist succeeded: the names were not used")
	}
}

func TestKeystoneValidatesTokens(t *testing.T) {
	env := testenv.Load(t)
	clock := time.Now()
	k := newKeystone(t, env, func() time.Time { return clock })
	tok := userToken(t, env, "DEMO")
	req, _ := http.NewRequest("GET", "/", nil)
	req.Header.Set("X-Auth-Token", tok)
	// Identity headers a client sends are never believed.
	req.Header.Set("X-Project-Id", env.Get(t, "OTHER_OS_PROJECT_ID"))
	req.Header.Set("X-Roles", "admin")
	id, err := k.Authenticate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if id.ProjectID != env.Get(t, "DEMO_OS_PROJECT_ID") || id.UserID != env.Get(t, "DEMO_OS_USER_ID") {
		t.Fatalf("identity %+v", id)
	}
	if !id.HasRole("member") || id.HasRole("admin") {
		t.Fatalf("roles %v", id.Roles)
	}
	if id.ExpiresAt.Before(clock) {
		t.Fatalf("expiry %v", id.ExpiresAt)
	}
	if k.CacheLen() != 1 {
		t.Fatalf("cache has %d entries", k.CacheLen())
	}
	// Cached: same answer without Keystone (the entry is still valid).
	id2, err := k.Authenticate(context.Background(), req)
	if err != nil || id2 != id {
		t.Fatalf("cache miss: %v %v", id2, err)
	}
	// After the cache time, Keystone is asked again and still says yes.
	clock = clock.Add(2 * time.Minute)
	id3, err := k.Authenticate(context.Background(), req)
	if err != nil || id3 == id || id3.ProjectID != id.ProjectID {
		t.Fatalf("revalidation: %v %v", id3, err)
	}
	// Past the token's own expiry the cached entry is not used.
	clock = id.ExpiresAt.Add(time.Second)
	if _, err := k.Authenticate(context.Background(), req); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("expired token accepted: %v", err)
	}

	bad, _ := http.NewRequest("GET", "/", nil)
	bad.Header.Set("X-Auth-Token", "gAAAAABnot-a-token")
	clock = time.Now()
	if _, err := k.Authenticate(context.Background(), bad); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("bad token: %v", err)
	}
	none, _ := http.NewRequest("GET", "/", nil)
	if _, err := k.Authenticate(context.Background(), none); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("no token: %v", err)
	}
}

// A burst of requests with one token when its cache entry is missing or
// expired makes one validation call, not one per request: the failure
// mode was a 503 for some of 200 concurrent clients once Keystone's
// workers were swamped.
func TestKeystoneConcurrentRequestsShareOneValidation(t *testing.T) {
	env := testenv.Load(t)
	clock := time.Now()
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	k := newKeystone(t, env, now)
	tok := userToken(t, env, "DEMO")
	burst := func() {
		t.Helper()
		start := make(chan struct{})
		errs := make(chan error, 200)
		var wg sync.WaitGroup
		for range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("GET", "/", nil)
				req.Header.Set("X-Auth-Token", tok)
				<-start
				id, err := k.Authenticate(context.Background(), req)
				if err == nil && id.ProjectID != env.Get(t, "DEMO_OS_PROJECT_ID") {
					err = errors.New("wrong project " + id.ProjectID)
				}
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	burst()
	if n := k.Validations(); n != 1 {
		t.Fatalf("200 concurrent requests with one token sent %d validations to Keystone, want 1", n)
	}
	// The cache entry expires: the next burst again makes exactly one call.
	mu.Lock()
	clock = clock.Add(2 * time.Minute)
	mu.Unlock()
	burst()
	if n := k.Validations(); n != 2 {
		t.Fatalf("after expiry: %d validations in all, want 2", n)
	}
}

// A request whose client goes away does not fail the others waiting for
// the same validation.
func TestKeystoneCancelledRequestDoesNotFailWaiters(t *testing.T) {
	env := testenv.Load(t)
	k := newKeystone(t, env, nil)
	tok := userToken(t, env, "DEMO")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequest("GET", "/", nil)
	req.Header.Set("X-Auth-Token", tok)
	// The first caller starts the validation with a dead context; the
	// validation itself runs to completion and is cached.
	_, _ = k.Authenticate(ctx, req)
	id, err := k.Authenticate(context.Background(), req)
	if err != nil || id.ProjectID != env.Get(t, "DEMO_OS_PROJECT_ID") {
		t.Fatalf("after a cancelled first request: %v %v", id, err)
	}
	if n := k.Validations(); n != 1 {
		t.Fatalf("%d validations, want 1 (the cancelled request's was cached)", n)
	}
}

func TestKeystoneBadServiceCredentials(t *testing.T) {
	env := testenv.Load(t)
	_, err := auth.NewKeystone(context.Background(), auth.KeystoneConfig{
		AuthURL: env.Get(t, "OS_AUTH_URL"), Username: env.Get(t, "FREEZER_SVC_USERNAME"), Password: "wrong",
		ProjectName: env.Get(t, "FREEZER_SVC_PROJECT_NAME"), UserDomainName: "Default", ProjectDomainName: "Default",
	})
	if err == nil {
		t.Fatal("wrong service password accepted")
	}
}

func TestKeystoneUnreachable(t *testing.T) {
	_, err := auth.NewKeystone(context.Background(), auth.KeystoneConfig{AuthURL: "http://127.0.0.1:1/v3", Username: "x", Password: "y"})
	if err == nil {
		t.Fatal("unreachable Keystone accepted")
	}
}
