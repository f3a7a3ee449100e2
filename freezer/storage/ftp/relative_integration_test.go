//go:build integration

package ftp

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// loginDir is the directory the FTP user lands in after logging in.
func loginDir(t *testing.T) string {
	env := testenv.Load(t)
	c, err := ftp.Dial(net.JoinHostPort(env.Get(t, "FTP_HOST"), env.Get(t, "FTP_PORT")), ftp.DialWithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Quit()
	if err := c.Login(env.Get(t, "FTP_USER"), env.Get(t, "FTP_PASS")); err != nil {
		t.Fatal(err)
	}
	dir, err := c.CurrentDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestFTPRelativeContainer: a container relative to the login directory
// (as upstream's users often give it) stays put although every CWD moves
// the pooled connection: one connection serves every call in turn, and
// the objects are where the same container given absolutely finds them.
func TestFTPRelativeContainer(t *testing.T) {
	base := testenv.Load(t).Get(t, "FTP_CONTAINER")
	home := loginDir(t)
	if !strings.HasPrefix(base, home+"/") {
		t.Fatalf("FTP_CONTAINER %s is not below the login directory %s", base, home)
	}
	run := uniq(t)
	rel := strings.TrimPrefix(base, home+"/") + "/" + run + "/root"
	ctx := context.Background()
	o := envOptions(t, rel, false)
	o.MaxConns = 1
	s, err := New(ctx, o)
	if err != nil {
		t.Fatalf("New with the relative container %q: %v", rel, err)
	}
	parent, err := New(ctx, envOptions(t, base, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := parent.Delete(ctx, run); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		parent.Close()
	})
	if want := base + "/" + run + "/root"; s.root != want {
		t.Errorf("root %s, want %s", s.root, want)
	}
	for _, k := range []string{"a/b/one", "a/b/two", "a/three", "top"} {
		if err := s.Put(ctx, k, strings.NewReader("content of "+k)); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
		if _, err := s.List(ctx, "a/b"); err != nil {
			t.Fatalf("List after Put %s: %v", k, err)
		}
	}
	lists := map[string][]string{"": {"a", "top"}, "a": {"b", "three"}, "a/b": {"one", "two"}}
	for dir, want := range lists {
		got, err := s.List(ctx, dir)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List %q: %v, %v; want %v", dir, got, err, want)
		}
		seen := mustListIn(t, parent, storage.Join(run+"/root", dir))
		if !slices.Equal(seen, want) {
			t.Errorf("the absolute container lists %q as %v, want %v", dir, seen, want)
		}
	}
	for _, k := range []string{"a/b/two", "top", "a/three"} {
		rc, err := s.Get(ctx, k)
		if err != nil {
			t.Fatalf("Get %s: %v", k, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != "content of "+k {
			t.Fatalf("Get %s: %q, %v", k, b, err)
		}
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatalf("Delete a/b: %v", err)
	}
	if err := s.Delete(ctx, "top"); err != nil {
		t.Fatalf("Delete top: %v", err)
	}
	if got := mustListIn(t, parent, run+"/root"); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("after deleting: the absolute container lists %v, want [a]", got)
	}
	if _, err := s.Get(ctx, "a/b/one"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("Get of a deleted object: %v", err)
	}
}

func mustListIn(t *testing.T, s backup.Storage, dir string) []string {
	t.Helper()
	names, err := s.List(context.Background(), dir)
	if err != nil {
		t.Fatalf("List %q: %v", dir, err)
	}
	return names
}

// TestFTPPutOverDirectoryIsFinal: a Put where a directory is fails at
// once, not after a minute of retries.
func TestFTPPutOverDirectoryIsFinal(t *testing.T) {
	s := newTest(t, false)
	ctx := context.Background()
	if err := s.Put(ctx, "d/child", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	err := s.Put(ctx, "d", strings.NewReader("y"))
	if err == nil || !strings.Contains(err.Error(), "directory exists") {
		t.Fatalf("Put over a directory: %v", err)
	}
	if storage.IsTransient(err) {
		t.Fatalf("Put over a directory is transient (retried for a minute): %v", err)
	}
}
