package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// caFileOf writes the certificate of a TLS test server as a CA bundle.
func caFileOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, o Options, url string) error {
	t.Helper()
	cfg, err := Config(o)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	res, err := c.Get(url)
	if err == nil {
		res.Body.Close()
	}
	return err
}

func TestServerVerification(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	if err := get(t, Options{}, srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("unknown CA accepted by default: %v", err)
	}
	if err := get(t, Options{CAFile: caFileOf(t, srv)}, srv.URL); err != nil {
		t.Fatalf("with the CA file: %v", err)
	}
	if err := get(t, Options{Insecure: true}, srv.URL); err != nil {
		t.Fatalf("insecure: %v", err)
	}
}

func TestClientCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.StartTLS()
	defer srv.Close()
	ca := caFileOf(t, srv)
	if err := get(t, Options{CAFile: ca}, srv.URL); err == nil {
		t.Fatal("a server requiring a client certificate accepted none")
	}
	// The test server's own certificate and key serve as the client's.
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeKeyPair(t, srv.TLS.Certificates[0], certFile, keyFile)
	if err := get(t, Options{CAFile: ca, CertFile: certFile, KeyFile: keyFile}, srv.URL); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	for _, o := range []Options{
		{CAFile: filepath.Join(dir, "missing.pem")},
		{CAFile: junk},
		{CertFile: junk},
		{KeyFile: junk},
	} {
		if _, err := Config(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if cfg, err := Config(Options{}); cfg != nil || err != nil {
		t.Errorf("zero options: %v, %v", cfg, err)
	}
}

func writeKeyPair(t *testing.T, c tls.Certificate, certFile, keyFile string) {
	t.Helper()
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var certPEM []byte
	for _, der := range c.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
}
