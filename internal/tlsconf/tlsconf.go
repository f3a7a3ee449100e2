// Package tlsconf builds the TLS client settings the programs take from
// their options (a CA bundle, a client certificate, the explicit opt-out
// of verification), the same way for Keystone, Swift, S3, FTPS and
// freezer-api.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Options are the TLS settings of one client.
type Options struct {
	// CAFile is a PEM bundle trusted instead of the system's CAs.
	CAFile string
	// CertFile is a PEM client certificate; KeyFile its key (default:
	// CertFile, for a file holding both).
	CertFile, KeyFile string
	// Insecure skips verifying the server's certificate. Only an explicit
	// option sets it.
	Insecure bool
}

// IsZero reports whether o asks for nothing beyond Go's defaults.
func (o Options) IsZero() bool { return o == Options{} }

// Config returns the client configuration for o, or nil when o is zero
// (Go's defaults: the system's CAs, full verification).
func Config(o Options) (*tls.Config, error) {
	if o.IsZero() {
		return nil, nil
	}
	if o.KeyFile != "" && o.CertFile == "" {
		return nil, errors.New("a client key without a client certificate")
	}
	cfg := &tls.Config{InsecureSkipVerify: o.Insecure} //nolint:gosec // only on the operator's explicit option
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" {
		key := o.KeyFile
		if key == "" {
			key = o.CertFile
		}
		cert, err := tls.LoadX509KeyPair(o.CertFile, key)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
