//go:build integration

package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/resume"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

func envOptions(t *testing.T, container string) Options {
	env := testenv.Load(t)
	o, err := OptionsFrom(storage.Values{
		"container":       container,
		"ssh_host":        env.Get(t, "SSH_HOST"),
		"ssh_port":        env.Get(t, "SSH_PORT"),
		"ssh_username":    env.Get(t, "SSH_USER"),
		"ssh_key":         env.Get(t, "SSH_KEY"),
		"ssh_known_hosts": env.Get(t, "SSH_KNOWN_HOSTS"),
	}, "")
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

func newTest(t *testing.T) *Storage {
	t.Helper()
	base := testenv.Load(t).Get(t, "SSH_CONTAINER")
	run := uniq(t)
	ctx := context.Background()
	s, err := New(ctx, envOptions(t, base+"/"+run+"/root"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		parent, err := New(ctx, envOptions(t, base))
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

func TestSFTPConformance(t *testing.T) {
	storagetest.RunConfig(t, storagetest.Config{LargeSize: 6<<20 + 77},
		func(t *testing.T) backup.Storage { return newTest(t) })
}

// Restore, info and retention open the storage with NoCreate: a directory
// that does not exist stays so.
func TestSFTPMissingRootNotCreated(t *testing.T) {
	storagetest.RunMissingRoot(t, func(t *testing.T) (backup.Storage, func() bool) {
		base := testenv.Load(t).Get(t, "SSH_CONTAINER")
		run := uniq(t)
		ctx := context.Background()
		o := envOptions(t, base+"/"+run+"/root")
		o.NoCreate = true
		s, err := New(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		parent, err := New(ctx, envOptions(t, base))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			s.Close()
			parent.Close()
		})
		return s, storagetest.ListedIn(t, parent, run)
	})
}

func TestSFTPUnknownHostKeyRefused(t *testing.T) {
	_, pub, _ := func() (ed25519.PrivateKey, gossh.PublicKey, error) {
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := gossh.NewPublicKey(p)
		return k, sp, err
	}()
	o := envOptions(t, testenv.Load(t).Get(t, "SSH_CONTAINER"))
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := "[" + o.Host + "]:" + strconv.Itoa(o.Port) + " " + string(gossh.MarshalAuthorizedKey(pub))
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	o.KnownHostsFile = kh
	if _, err := New(context.Background(), o); err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("New with a wrong known host key: %v, want a host key error", err)
	}
	// The explicit opt-out connects anyway.
	o.InsecureIgnoreHostKey = true
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New with ssh_insecure_ignore_host_key: %v", err)
	}
	s.Close()
}

func TestSFTPReconnects(t *testing.T) {
	s := newTest(t)
	ctx := context.Background()
	if err := s.Put(ctx, "a", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	// Kill the connection under the storage, as a network cut would.
	s.mu.Lock()
	s.conn.Close()
	s.mu.Unlock()
	if _, err := s.List(ctx, ""); err == nil {
		t.Log("first call after the cut succeeded")
	}
	names, err := s.List(ctx, "")
	if err != nil || len(names) != 1 || names[0] != "a" {
		t.Fatalf("List after reconnect = %q, %v", names, err)
	}
}

func TestSFTPPasswordRefused(t *testing.T) {
	// The test sshd allows keys only: a password login must fail cleanly.
	o := envOptions(t, "/tmp")
	o.Password = "not-the-password"
	if _, err := New(context.Background(), o); err == nil {
		t.Fatal("password login succeeded against a key-only server")
	}
}

// TestSFTPDownloadResumesAfterDisconnect: the connection drops during a
// download; the reader redials and continues where it was.
func TestSFTPDownloadResumesAfterDisconnect(t *testing.T) {
	s := newTest(t)
	ctx := context.Background()
	size := int64(8 << 20)
	if err := s.Put(ctx, "r/data", storagetest.Generator(4, size)); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "r/data")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, rc, size/3); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.conn.Close()
	s.mu.Unlock()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("read after the disconnect failed after %d more bytes: %v", n, err)
	}
	want, _, _ := storagetest.HashOf(storagetest.Generator(4, size))
	if n+size/3 != size || hex.EncodeToString(h.Sum(nil)) != want {
		t.Fatalf("read %d bytes, hash ok %v", n+size/3, hex.EncodeToString(h.Sum(nil)) == want)
	}
	if rc.(*resume.Reader).Resumes == 0 {
		t.Fatal("the disconnect did not interrupt the read")
	}
}
