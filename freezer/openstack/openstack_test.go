package openstack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"freezer.dev/freezer/freezer/storage"
)

func TestAuthOptionsScope(t *testing.T) {
	ao := TokenOptions(Auth{Username: "u", Password: "p", ProjectName: "demo", UserDomainName: "D1", ProjectDomainName: "D2"})
	if !ao.AllowReauth || ao.DomainName != "D1" || ao.Scope.ProjectName != "demo" || ao.Scope.DomainName != "D2" {
		t.Fatalf("%+v", ao)
	}
	// A trust replaces the project scope, as upstream's --os-trust-id.
	ao = TokenOptions(Auth{Username: "u", Password: "p", ProjectName: "demo", TrustID: "t1"})
	if ao.Scope.TrustID != "t1" || ao.Scope.ProjectName != "" {
		t.Fatalf("%+v", ao.Scope)
	}
	// A token cannot be renewed.
	ao = TokenOptions(Auth{Token: "tok", ProjectID: "p1"})
	if ao.AllowReauth || ao.TokenID != "tok" || ao.Scope.ProjectID != "p1" {
		t.Fatalf("%+v", ao)
	}
	// Domain defaults to "Default", as keystoneauth does for v3 names.
	ao = TokenOptions(Auth{Username: "u", Password: "p", ProjectName: "x"})
	if ao.DomainName != "Default" || ao.Scope.DomainName != "Default" {
		t.Fatalf("%+v", ao)
	}
}

func TestTokenOptionsApplicationCredential(t *testing.T) {
	ao := TokenOptions(Auth{ApplicationCredentialID: "ac1", ApplicationCredentialSecret: "s", Username: "u", Password: "p", ProjectName: "demo"})
	if ao.ApplicationCredentialID != "ac1" || ao.ApplicationCredentialSecret != "s" || ao.Password != "" || ao.Username != "" || ao.Scope != (tokens.Scope{}) {
		t.Fatalf("%+v", ao)
	}
	// By name, the credential belongs to a user, named in a domain.
	ao = TokenOptions(Auth{ApplicationCredentialName: "ac", ApplicationCredentialSecret: "s", Username: "u", ProjectName: "demo"})
	if ao.ApplicationCredentialName != "ac" || ao.Username != "u" || ao.DomainName != "Default" || ao.Scope != (tokens.Scope{}) {
		t.Fatalf("%+v", ao)
	}
}

func TestAuthFromEnvironment(t *testing.T) {
	env := map[string]string{"OS_AUTH_URL": "http://ks/v3", "OS_TRUST_ID": "tr", "OS_INTERFACE": "internal",
		"OS_APPLICATION_CREDENTIAL_ID": "id", "OS_APPLICATION_CREDENTIAL_SECRET": "sec", "OS_CACERT": "/ca"}
	a, err := AuthFrom(storage.Values{"os_trust_id": "opt"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if a.TrustID != "opt" || a.ApplicationCredentialID != "id" || a.CACert != "/ca" || Availability(a.EndpointType) != gophercloud.AvailabilityInternal {
		t.Fatalf("%+v", a)
	}
	if a.Method() != "application credential" {
		t.Fatal(a.Method())
	}
}

func TestWaitIsBounded(t *testing.T) {
	calls := 0
	err := Wait{Timeout: 50 * time.Millisecond, Interval: 10 * time.Millisecond}.Until(context.Background(), "image active", func(context.Context) (bool, error) {
		calls++
		return false, gophercloud.ErrUnexpectedResponseCode{Actual: 503}
	})
	if err == nil || calls < 2 || !strings.Contains(err.Error(), "not reached within") {
		t.Fatalf("calls %d, err %v", calls, err)
	}
	// A permanent error ends the wait at once.
	calls = 0
	err = Wait{Timeout: time.Minute}.Until(context.Background(), "x", func(context.Context) (bool, error) {
		calls++
		return false, gophercloud.ErrUnexpectedResponseCode{Actual: 403}
	})
	if err == nil || calls != 1 {
		t.Fatalf("calls %d, err %v", calls, err)
	}
}
