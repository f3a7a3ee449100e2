package registry

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/multi"
	"freezer.dev/freezer/freezer/storage/ratelimit"
)

func TestNames(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "ftp,ftps,local,s3,ssh,swift" {
		t.Fatalf("Names() = %s", got)
	}
}

func TestNewLocalWithLimits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	st, err := New(context.Background(), storage.Values{"storage": "local", "container": dir, "upload_limit": "10M"}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*ratelimit.Storage); !ok {
		t.Fatalf("upload limit not applied: %T", st)
	}
	if !strings.Contains(st.String(), dir) {
		t.Fatalf("String() = %s", st)
	}
	st, err = New(context.Background(), storage.Values{"storage": "local", "container": dir}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*ratelimit.Storage); ok {
		t.Fatal("a limiter without limits")
	}
}

func TestNewErrors(t *testing.T) {
	ctx := context.Background()
	for _, v := range []storage.Values{
		{"storage": "tape", "container": "x"},
		{"storage": "local", "container": "x", "upload_limit": "fast"},
		{"storage": "local"},
		{"storage": "s3", "container": "b"},                       // no keys
		{"storage": "swift", "container": "c"},                    // no auth URL
		{"storage": "ssh", "container": "/x"},                     // no host
		{"storage": "ftp", "container": "/x", "ftp_host": "h"},    // no user
		{"storage": "ssh", "container": "/x", "ssh_port": "port"}, // bad port
	} {
		if _, err := New(ctx, v, Env{Getenv: func(string) string { return "" }}); err == nil {
			t.Errorf("New(%v) succeeded", v)
		}
	}
}

func TestFromSections(t *testing.T) {
	ctx := context.Background()
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	st, err := FromSections(ctx, storage.Values{"max_segment_size": "1M"}, map[string]storage.Values{
		"first":  storage.ValuesFrom(map[string]string{"storage": "local", "container": a}),
		"second": storage.ValuesFrom(map[string]string{"Storage": "local", "container": b}),
	}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	m, ok := st.(*multi.Storage)
	if !ok || len(m.Storages()) != 2 {
		t.Fatalf("got %T", st)
	}
	if err := st.Put(ctx, "k", strings.NewReader("v")); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Storages() {
		rc, err := s.Get(ctx, "k")
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		rc.Close()
	}
	if _, err := FromSections(ctx, nil, map[string]storage.Values{"x": {"storage": "local"}}, Env{}); err == nil {
		t.Fatal("section without container accepted")
	}
}

func TestValuesAcceptBothSpellings(t *testing.T) {
	v := storage.ValuesFrom(map[string]string{"--ssh-host": "h", "SSH_PORT": "2222"})
	if v.Get("ssh_host") != "h" || v.Get("ssh-port") != "2222" {
		t.Fatalf("%v", v)
	}
}

func TestFromSectionsLimitsTheCombinedStream(t *testing.T) {
	ctx := context.Background()
	st, err := FromSections(ctx, storage.Values{"upload_limit": "1G"}, map[string]storage.Values{
		"a": {"storage": "local", "container": filepath.Join(t.TempDir(), "a")},
		"b": {"storage": "local", "container": filepath.Join(t.TempDir(), "b")},
	}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	rl, ok := st.(*ratelimit.Storage)
	if !ok {
		t.Fatalf("job-wide limit not applied around the combination: %T", st)
	}
	if _, ok := rl.Storage.(*multi.Storage); !ok {
		t.Fatalf("limited storage is %T, want the multi storage", rl.Storage)
	}
	if _, err := FromSections(ctx, storage.Values{"upload_limit": "lots"}, map[string]storage.Values{"a": {"storage": "local", "container": t.TempDir()}}, Env{}); err == nil {
		t.Fatal("bad limit accepted")
	}
}
