//go:build integration

package client_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/internal/testutil/testenv"
)

func demoAuth(t *testing.T, env *testenv.Env) client.AuthOptions {
	return client.AuthOptions{AuthURL: env.Get(t, "OS_AUTH_URL"), Username: env.Get(t, "DEMO_OS_USERNAME"),
		Password: env.Get(t, "DEMO_OS_PASSWORD"), ProjectName: env.Get(t, "DEMO_OS_PROJECT_NAME"),
		UserDomainName: env.Get(t, "DEMO_OS_USER_DOMAIN_NAME"), ProjectDomainName: env.Get(t, "DEMO_OS_PROJECT_DOMAIN_NAME"),
		RegionName: env.Get(t, "OS_REGION_NAME")}
}

// Without an explicit endpoint the client finds freezer-api in the real
// Keystone catalog (service type "backup") and scopes to the token's project.
func TestKeystoneCatalogEndpoint(t *testing.T) {
	env := testenv.Load(t)
	ctx := context.Background()
	c, err := client.Authenticate(ctx, demoAuth(t, env))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimRight(env.Get(t, "BACKUP_URL"), "/"); c.Endpoint() != want {
		t.Errorf("catalog endpoint %s, want %s", c.Endpoint(), want)
	}
	if c.ProjectID() != env.Get(t, "DEMO_OS_PROJECT_ID") {
		t.Errorf("project %s, want demo's %s", c.ProjectID(), env.Get(t, "DEMO_OS_PROJECT_ID"))
	}
	if c.Token() == "" {
		t.Error("no token")
	}
	// The internal interface is in the catalog too.
	o := demoAuth(t, env)
	o.Interface = "internalURL"
	if _, err := client.Authenticate(ctx, o); err != nil {
		t.Errorf("internal endpoint: %v", err)
	}
	// An existing token (OS_TOKEN) scoped to the project works as well.
	// OS_USER_DOMAIN_NAME left in the environment does not get in the way.
	o = client.AuthOptions{AuthURL: env.Get(t, "OS_AUTH_URL"), Token: c.Token(), ProjectID: c.ProjectID(), UserDomainName: "Default"}
	c2, err := client.Authenticate(ctx, o)
	if err != nil {
		t.Fatalf("token auth: %v", err)
	}
	if c2.ProjectID() != c.ProjectID() {
		t.Errorf("token auth project %s", c2.ProjectID())
	}
	// Neither domain given: both are the default domain, as every
	// OpenStack client assumes (a project name alone used to be refused
	// before any request: "exactly one of DomainID or DomainName").
	o = demoAuth(t, env)
	o.UserDomainName, o.ProjectDomainName = "", ""
	if c3, err := client.Authenticate(ctx, o); err != nil {
		t.Errorf("without domains: %v", err)
	} else if c3.ProjectID() != c.ProjectID() {
		t.Errorf("without domains: project %s, want %s", c3.ProjectID(), c.ProjectID())
	}
	// Both a domain's id and its name (OS_USER_DOMAIN_ID and
	// OS_USER_DOMAIN_NAME set together): the id wins.
	o = demoAuth(t, env)
	o.UserDomainID, o.UserDomainName = "default", "NoSuchDomain"
	o.ProjectDomainID, o.ProjectDomainName = "default", "NoSuchDomain"
	if _, err := client.Authenticate(ctx, o); err != nil {
		t.Errorf("domain ids and names: %v", err)
	}
	// Wrong password: a clear error, not a panic.
	o = demoAuth(t, env)
	o.Password = "wrong"
	_, err = client.Authenticate(ctx, o)
	if err == nil || !gophercloud.ResponseCodeIs(err, 401) {
		t.Errorf("wrong password: %v", err)
	}
}
