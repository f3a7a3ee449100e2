//go:build integration

package ftp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

func envOptions(t *testing.T, container string, tls bool) Options {
	env := testenv.Load(t)
	port := env.Get(t, "FTP_PORT")
	if tls {
		port = env.Get(t, "FTPS_PORT")
	}
	v := storage.Values{
		"container":    container,
		"ftp_host":     env.Get(t, "FTP_HOST"),
		"ftp_port":     port,
		"ftp_username": env.Get(t, "FTP_USER"),
		"ftp_password": env.Get(t, "FTP_PASS"),
	}
	if tls {
		v["ftp_cacert"] = env.Get(t, "FTPS_CACERT")
	}
	o, err := OptionsFrom(v, tls)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func uniq(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
}

func newTest(t *testing.T, tls bool) *Storage {
	t.Helper()
	base := testenv.Load(t).Get(t, "FTP_CONTAINER")
	run := uniq(t)
	ctx := context.Background()
	s, err := New(ctx, envOptions(t, base+"/"+run+"/root", tls))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		parent, err := New(ctx, envOptions(t, base, tls))
		if err == nil {
			err = parent.Delete(ctx, run)
			parent.Close()
		}
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return s
}

func TestFTPConformance(t *testing.T) {
	storagetest.RunConfig(t, storagetest.Config{LargeSize: 6<<20 + 99},
		func(t *testing.T) backup.Storage { return newTest(t, false) })
}

func TestFTPSConformance(t *testing.T) {
	storagetest.RunConfig(t, storagetest.Config{LargeSize: 4<<20 + 99},
		func(t *testing.T) backup.Storage { return newTest(t, true) })
}

// TestFTPSRefusesUnknownCertificate: without the CA file the self-signed
// server certificate is rejected (upstream accepted anything).
func TestFTPSRefusesUnknownCertificate(t *testing.T) {
	o := envOptions(t, testenv.Load(t).Get(t, "FTP_CONTAINER"), true)
	o.CACert = ""
	if _, err := New(context.Background(), o); err == nil {
		t.Fatal("FTPS with an unverifiable certificate connected")
	}
}

// TestFTPWrongPassword fails at New, not at the first backup.
func TestFTPWrongPassword(t *testing.T) {
	o := envOptions(t, testenv.Load(t).Get(t, "FTP_CONTAINER"), false)
	o.Password = "wrong"
	if _, err := New(context.Background(), o); err == nil || !strings.Contains(err.Error(), "logging in") {
		t.Fatalf("New with a wrong password: %v", err)
	}
}
