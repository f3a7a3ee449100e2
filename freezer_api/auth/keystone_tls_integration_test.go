//go:build integration

package auth_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/internal/testutil/testenv"
	"freezer.dev/freezer/internal/tlsconf"
)

// The test environment's Keystone speaks plain HTTP; here it is put behind
// a TLS-terminating reverse proxy with a certificate no system CA signed,
// as a Keystone with a private CA is in many clouds. [keystone_authtoken]
// cafile makes freezer-api trust it, insecure skips the check, and without
// either the login fails on the certificate.
func TestKeystoneBehindTLSWithPrivateCA(t *testing.T) {
	env := testenv.Load(t)
	upstream, err := url.Parse(env.Get(t, "OS_AUTH_URL"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: upstream.Scheme, Host: upstream.Host}))
	defer proxy.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := auth.KeystoneConfig{
		AuthURL:           proxy.URL + upstream.Path,
		Username:          env.Get(t, "FREEZER_SVC_USERNAME"),
		Password:          env.Get(t, "FREEZER_SVC_PASSWORD"),
		ProjectName:       env.Get(t, "FREEZER_SVC_PROJECT_NAME"),
		UserDomainName:    "Default",
		ProjectDomainName: "Default",
	}
	ctx := context.Background()
	if _, err := auth.NewKeystone(ctx, cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a certificate from an unknown CA was accepted: %v", err)
	}
	for _, o := range []tlsconf.Options{{CAFile: ca}, {Insecure: true}} {
		cfg.TLS = o
		k, err := auth.NewKeystone(ctx, cfg)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		// Token validation goes through the proxy too.
		req, _ := http.NewRequest("GET", "/", nil)
		req.Header.Set("X-Auth-Token", userToken(t, env, "DEMO"))
		id, err := k.Authenticate(ctx, req)
		if err != nil {
			t.Fatalf("%+v: validating a token: %v", o, err)
		}
		if id.ProjectID != env.Get(t, "DEMO_OS_PROJECT_ID") {
			t.Fatalf("%+v: identity %+v", o, id)
		}
	}
	cfg.TLS = tlsconf.Options{CAFile: filepath.Join(t.TempDir(), "missing.pem")}
	if _, err := auth.NewKeystone(ctx, cfg); err == nil || !strings.Contains(err.Error(), "keystone_authtoken") {
		t.Fatalf("a missing cafile: %v", err)
	}
}
