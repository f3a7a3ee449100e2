//go:build integration

package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/internal/testutil/testenv"
)

func keystoneToken(t *testing.T, env *testenv.Env, who string) string {
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
	tok, _ := pc.GetAuthResult().ExtractTokenID()
	return tok
}

// TestKeystoneProjectMismatch: with real Keystone tokens, the demo user
// works in its project, gets 403 in the other project's URLs whatever
// identity headers it adds, and no token is 401.
func TestKeystoneProjectMismatch(t *testing.T) {
	env := testenv.Load(t)
	k, err := auth.NewKeystone(context.Background(), auth.KeystoneConfig{
		AuthURL: env.Get(t, "OS_AUTH_URL"), Username: env.Get(t, "FREEZER_SVC_USERNAME"), Password: env.Get(t, "FREEZER_SVC_PASSWORD"),
		ProjectName: env.Get(t, "FREEZER_SVC_PROJECT_NAME"), UserDomainName: "Default", ProjectDomainName: "Default", CacheTime: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	authURL := env.Get(t, "OS_AUTH_URL")
	e := newEnv(t, func(c *server.Config) { c.Auth = k; c.WWWAuthenticate = authURL })
	demo, other := env.Get(t, "DEMO_OS_PROJECT_ID"), env.Get(t, "OTHER_OS_PROJECT_ID")
	demoTok, otherTok := keystoneToken(t, env, "DEMO"), keystoneToken(t, env, "OTHER")
	nobody := who{}
	e.expect(nobody, "POST", "/v2/"+demo+"/clients", `{"client_id":"`+demo+`_h"}`, 201, "", "X-Auth-Token", demoTok)
	e.expect(nobody, "GET", "/v2/"+demo+"/clients", nil, 200, `{"clients":[{"project_id":"`+demo+`","user_id":"`+env.Get(t, "DEMO_OS_USER_ID")+`"}]}`, "X-Auth-Token", demoTok)
	e.expect(nobody, "GET", "/v2/"+demo+"/clients", nil, 403, `{"title":"Access Forbidden"}`, "X-Auth-Token", otherTok)
	e.expect(nobody, "GET", "/v2/"+other+"/clients", nil, 403, "", "X-Auth-Token", demoTok, "X-Project-Id", other, "X-Roles", "admin")
	e.expect(nobody, "POST", "/v2/"+other+"/jobs", `{}`, 403, "", "X-Auth-Token", demoTok)
	r := e.expect(nobody, "GET", "/v2/"+demo+"/clients", nil, 401, `{"error":{"code":401,"title":"Unauthorized"}}`)
	if !strings.Contains(r.header.Get("WWW-Authenticate"), authURL) {
		t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	e.expect(nobody, "GET", "/v2/"+demo+"/clients", nil, 401, "", "X-Auth-Token", "not-a-token")
	// Unauthenticated routes stay open.
	e.expect(nobody, "GET", "/", nil, http.StatusMultipleChoices, "")
	e.expect(nobody, "GET", "/healthcheck", nil, 200, "")
	e.expect(nobody, "GET", "/v2", nil, 401, "")
}
