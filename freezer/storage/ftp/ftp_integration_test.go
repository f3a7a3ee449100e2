//go:build integration

package ftp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/resume"
	"freezer.dev/freezer/freezer/storage/retry"
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

// Restore, info and retention open the storage with NoCreate: a directory
// that does not exist stays so.
func TestFTPMissingRootNotCreated(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "ftp", true: "ftps"}[tls], func(t *testing.T) {
			storagetest.RunMissingRoot(t, func(t *testing.T) (backup.Storage, func() bool) {
				base := testenv.Load(t).Get(t, "FTP_CONTAINER")
				run := uniq(t)
				ctx := context.Background()
				o := envOptions(t, base+"/"+run+"/root", tls)
				o.NoCreate = true
				s, err := New(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				parent, err := New(ctx, envOptions(t, base, tls))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					s.Close()
					parent.Close()
				})
				return s, storagetest.ListedIn(t, parent, run)
			})
		})
	}
}

// TestFTPSRefusesUnknownCertificate: without the CA file the self-signed
// server certificate is rejected (upstream accepted anything).
func TestFTPSRefusesUnknownCertificate(t *testing.T) {
	o := envOptions(t, testenv.Load(t).Get(t, "FTP_CONTAINER"), true)
	o.CACert = ""
	_, err := New(context.Background(), o)
	if err == nil {
		t.Fatal("FTPS with an unverifiable certificate connected")
	}
	// Retrying cannot make the certificate trusted.
	if storage.IsTransient(err) {
		t.Fatalf("the refused certificate is transient: %v", err)
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

// cutter dials real connections to the FTP server and cuts the first data
// connection (any but the control port's) after limit bytes, as a dropped
// link would.
type cutter struct {
	control string
	limit   int64
	mu      sync.Mutex
	cuts    int
}

func (c *cutter) dial(network, addr string) (net.Conn, error) {
	nc, err := net.Dial(network, addr)
	if err != nil || addr == c.control {
		return nc, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cuts > 0 {
		return nc, nil
	}
	c.cuts++
	return &cutConn{Conn: nc, left: c.limit}, nil
}

type cutConn struct {
	net.Conn
	left int64
}

func (c *cutConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.Conn.Close()
		return 0, io.EOF // what a dropped data connection looks like to a reader
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

// TestFTPDownloadResumesAfterCut: the data connection of a download is
// cut in the middle (looking like a clean end of file); the reader sees
// the object is short of its SIZE, resumes with REST at the byte reached,
// and the bytes read are exactly the object.
func TestFTPDownloadResumesAfterCut(t *testing.T) {
	env := testenv.Load(t)
	s := newTest(t, false)
	ctx := context.Background()
	size := int64(8 << 20)
	if err := s.Put(ctx, "r/data", storagetest.Generator(31, size)); err != nil {
		t.Fatal(err)
	}
	cut := &cutter{control: net.JoinHostPort(env.Get(t, "FTP_HOST"), env.Get(t, "FTP_PORT")), limit: 3 << 20}
	o := s.opts
	o.Dial = cut.dial
	o.Retry = retry.Policy{Attempts: 3, Base: 50 * time.Millisecond, Max: 100 * time.Millisecond}
	s2, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rc, err := s2.Get(ctx, "r/data")
	if err != nil {
		t.Fatal(err)
	}
	got, n, err := storagetest.HashOf(rc)
	rc.Close()
	want, _, _ := storagetest.HashOf(storagetest.Generator(31, size))
	if err != nil || n != size || got != want {
		t.Fatalf("read %d of %d bytes, hash ok %v, err %v", n, size, got == want, err)
	}
	if cut.cuts != 1 {
		t.Fatalf("the transfer was not cut (%d cuts)", cut.cuts)
	}
	if r := rc.(*resume.Reader).Resumes; r != 1 {
		t.Fatalf("%d resumes, want 1", r)
	}
}
