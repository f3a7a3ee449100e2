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
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// serviceKeystone validates tokens as the freezer service user of the test
// environment, as a deployed freezer-api does.
func serviceKeystone(t *testing.T, env *testenv.Env) *auth.Keystone {
	t.Helper()
	k, err := auth.NewKeystone(context.Background(), auth.KeystoneConfig{
		AuthURL: env.Get(t, "OS_AUTH_URL"), Username: env.Get(t, "FREEZER_SVC_USERNAME"), Password: env.Get(t, "FREEZER_SVC_PASSWORD"),
		ProjectName: env.Get(t, "FREEZER_SVC_PROJECT_NAME"), UserDomainName: "Default", ProjectDomainName: "Default", CacheTime: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

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

// demoProjectUser makes sure a user of that name exists in Keystone with
// the role on the demo project (created by the admin on first use) and
// returns a token of it scoped to the demo project.
func demoProjectUser(t *testing.T, env *testenv.Env, name, role string) string {
	t.Helper()
	ctx := context.Background()
	pc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: env.Get(t, "OS_AUTH_URL"), Username: env.Get(t, "ADMIN_OS_USERNAME"), Password: env.Get(t, "ADMIN_OS_PASSWORD"),
		DomainName: "Default", Scope: &gophercloud.AuthScope{ProjectName: env.Get(t, "ADMIN_OS_PROJECT_NAME"), DomainName: "Default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id, err := openstack.NewIdentityV3(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := users.List(id, users.ListOpts{Name: name, DomainID: "default"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found, _ := users.ExtractUsers(page)
	var userID string
	if len(found) > 0 {
		userID = found[0].ID
	} else {
		u, err := users.Create(ctx, id, users.CreateOpts{Name: name, DomainID: "default", Password: name + "_pw"}).Extract()
		if err != nil {
			t.Fatalf("creating user %s: %v", name, err)
		}
		userID = u.ID
	}
	rpage, err := roles.List(id, roles.ListOpts{Name: role}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := roles.ExtractRoles(rpage)
	if len(rs) == 0 {
		t.Fatalf("no role %s in Keystone", role)
	}
	if err := roles.Assign(ctx, id, rs[0].ID, roles.AssignOpts{UserID: userID, ProjectID: env.Get(t, "DEMO_OS_PROJECT_ID")}).ExtractErr(); err != nil {
		t.Fatalf("assigning %s to %s: %v", role, name, err)
	}
	uc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: env.Get(t, "OS_AUTH_URL"), Username: name, Password: name + "_pw", DomainName: "Default",
		Scope: &gophercloud.AuthScope{ProjectID: env.Get(t, "DEMO_OS_PROJECT_ID")},
	})
	if err != nil {
		t.Fatalf("logging in as %s: %v", name, err)
	}
	tok, _ := uc.GetAuthResult().ExtractTokenID()
	return tok
}

// TestKeystoneProjectMismatch: with real Keystone tokens, the demo user
// works in its project, gets 403 in the other project's URLs whatever
// identity headers it adds, and no token is 401.
func TestKeystoneProjectMismatch(t *testing.T) {
	env := testenv.Load(t)
	k := serviceKeystone(t, env)
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
	// Before routing, as keystonemiddleware: no 404 for a path that does
	// not exist.
	r = e.expect(nobody, "GET", "/v2/jobs", nil, 401, "")
	if got := r.header.Get("WWW-Authenticate"); got != `Keystone uri="`+authURL+`"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
}

// TestCentralSchedulerTrusts: a job for a central client gets a Keystone
// trust from its owner to the freezer service user, shared by the owner's
// jobs, visible only to admin/service callers and the owner, and deleted in Keystone
// with the last job that uses it.
func TestCentralSchedulerTrusts(t *testing.T) {
	env := testenv.Load(t)
	k := serviceKeystone(t, env)
	e := newEnv(t, func(c *server.Config) {
		c.Auth = k
		c.Trusts = server.TrustConfig{Manager: k, Enabled: true, Roles: []string{"member"}}
	})
	demo, admin := env.Get(t, "DEMO_OS_PROJECT_ID"), env.Get(t, "ADMIN_OS_PROJECT_ID")
	demoTok, adminTok := keystoneToken(t, env, "DEMO"), keystoneToken(t, env, "ADMIN")
	nobody := who{}
	central := "central-" + strings.ReplaceAll(t.Name(), "_", "-")
	e.expect(nobody, "POST", "/v2/"+demo+"/clients", `{"client_id":"`+central+`","is_central":true}`, 403, "", "X-Auth-Token", demoTok)
	e.expect(nobody, "POST", "/v2/"+admin+"/clients", `{"client_id":"`+central+`","is_central":true}`, 201, "", "X-Auth-Token", adminTok)
	e.expect(nobody, "POST", "/v2/"+demo+"/clients", `{"client_id":"`+demo+`_local"}`, 201, "", "X-Auth-Token", demoTok)
	body := func(client string) string {
		return `{"client_id":"` + client + `","job_actions":[{"freezer_action":{"action":"backup","storage":"swift"}}],"user_credentials":{"trust_id":"forged","trustor_user_id":"x"}}`
	}
	j1 := e.expect(nobody, "POST", "/v2/"+demo+"/jobs", body(central), 201, "", "X-Auth-Token", demoTok).str("job_id")
	j2 := e.expect(nobody, "POST", "/v2/"+demo+"/jobs", body(central), 201, "", "X-Auth-Token", demoTok).str("job_id")
	j3 := e.expect(nobody, "POST", "/v2/"+demo+"/jobs", body(demo+"_local"), 201, "", "X-Auth-Token", demoTok).str("job_id")
	creds := func(job string) map[string]any {
		r := e.expect(nobody, "GET", "/v2/"+demo+"/jobs/"+job, nil, 200, "", "X-Auth-Token", adminTok)
		uc, _ := r.body.(map[string]any)["user_credentials"].(map[string]any)
		return uc
	}
	uc1, uc2 := creds(j1), creds(j2)
	if uc1 == nil || uc1["trustor_user_id"] != env.Get(t, "DEMO_OS_USER_ID") || uc1["trust_id"] == "forged" {
		t.Fatalf("user_credentials %v", uc1)
	}
	if uc2 == nil || uc2["trust_id"] != uc1["trust_id"] {
		t.Fatalf("second job has trust %v, want the first one's %v", uc2, uc1)
	}
	if uc3 := creds(j3); uc3 != nil {
		t.Fatalf("job of a non-central client got a trust: %v", uc3)
	}
	// The trustor sees its own trust (as on master); other members and
	// readers of the project never see a trust id, in a get or a list.
	trustID := uc1["trust_id"].(string)
	for _, job := range []string{j1, j2} {
		own := e.expect(nobody, "GET", "/v2/"+demo+"/jobs/"+job, nil, 200, "", "X-Auth-Token", demoTok)
		if uc, _ := own.body.(map[string]any)["user_credentials"].(map[string]any); uc == nil || uc["trust_id"] != trustID {
			t.Fatalf("trustor does not see its trust %s: %s", trustID, own.raw)
		}
	}
	if r := e.expect(nobody, "GET", "/v2/"+demo+"/jobs", nil, 200, "", "X-Auth-Token", demoTok); strings.Count(string(r.raw), trustID) != 2 {
		t.Fatalf("trustor's list does not show the trust of both jobs: %s", r.raw)
	}
	for _, u := range []struct{ name, role string }{{"demo_member2", "member"}, {"demo_reader", "reader"}} {
		tok := demoProjectUser(t, env, u.name, u.role)
		for _, path := range []string{"/v2/" + demo + "/jobs/" + j1, "/v2/" + demo + "/jobs"} {
			r := e.expect(nobody, "GET", path, nil, 200, "", "X-Auth-Token", tok)
			if strings.Contains(string(r.raw), "user_credentials") || strings.Contains(string(r.raw), trustID) {
				t.Fatalf("%s (%s) sees the trust at %s: %s", u.name, u.role, path, r.raw)
			}
			if !strings.Contains(string(r.raw), j1) {
				t.Fatalf("%s (%s) does not see job %s: %s", u.name, u.role, j1, r.raw)
			}
		}
	}
	trustStatus := func() int {
		req, _ := http.NewRequest("GET", env.Get(t, "OS_AUTH_URL")+"/OS-TRUST/trusts/"+trustID, nil)
		req.Header.Set("X-Auth-Token", demoTok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := trustStatus(); st != 200 {
		t.Fatalf("trust %s: status %d in Keystone", trustID, st)
	}
	e.expect(nobody, "DELETE", "/v2/"+demo+"/jobs/"+j1, nil, 204, "", "X-Auth-Token", demoTok)
	if st := trustStatus(); st != 200 {
		t.Fatalf("trust deleted while job %s still uses it: %d", j2, st)
	}
	e.expect(nobody, "DELETE", "/v2/"+demo+"/jobs/"+j2, nil, 204, "", "X-Auth-Token", demoTok)
	if st := trustStatus(); st != 404 {
		t.Fatalf("unused trust still in Keystone: %d", st)
	}
	e.expect(nobody, "DELETE", "/v2/"+admin+"/clients/"+central, nil, 204, "", "X-Auth-Token", adminTok)
}
