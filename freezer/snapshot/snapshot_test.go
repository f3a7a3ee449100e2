package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseAndFindMount(t *testing.T) {
	ms := ParseMounts([]byte("/dev/sda1 / ext4 rw 0 0\n/dev/mapper/vg-data /srv/my\\040data xfs rw 0 0\n/dev/sdb1 /srv ext4 rw 0 0\n"))
	if len(ms) != 3 || ms[1].Dir != "/srv/my data" {
		t.Fatalf("%+v", ms)
	}
	for path, want := range map[string]string{
		"/srv/my data/db": "/srv/my data",
		"/srv/my data":    "/srv/my data",
		"/srv/my":         "/srv",
		"/srv/mydata":     "/srv",
		"/home":           "/",
	} {
		m, ok := FindMount(ms, path)
		if !ok || m.Dir != want {
			t.Errorf("FindMount(%q) = %q, want %q", path, m.Dir, want)
		}
	}
}

type never struct{ kind string }

func (n never) Kind() string { return n.kind }
func (n never) Plan(context.Context, string) (Record, error) {
	return Record{}, errors.New("permission denied")
}
func (n never) Create(context.Context, Record) error { return nil }
func (n never) Remove(context.Context, Record) error { return nil }

type notApplicable struct{ kind string }

func (n notApplicable) Kind() string { return n.kind }
func (n notApplicable) Plan(context.Context, string) (Record, error) {
	return Record{}, errors.Join(errors.New(n.kind+" does not apply"), ErrNotApplicable)
}
func (n notApplicable) Create(context.Context, Record) error { return nil }
func (n notApplicable) Remove(context.Context, Record) error { return nil }

func TestTakeErrors(t *testing.T) {
	m := &Manager{Journal: t.TempDir(), Providers: []Provider{notApplicable{"a"}, notApplicable{"b"}}}
	_, err := m.Take(context.Background(), "auto", t.TempDir())
	if !errors.Is(err, ErrNotApplicable) || !strings.Contains(err.Error(), "a does not apply") || !strings.Contains(err.Error(), "b does not apply") {
		t.Errorf("auto: %v", err)
	}
	if _, err := m.Take(context.Background(), "zfs", t.TempDir()); err == nil || !strings.Contains(err.Error(), "supported: a, b") {
		t.Errorf("unknown kind: %v", err)
	}
	// Any other planning error is not "not applicable".
	m.Providers = []Provider{never{"c"}}
	if _, err := m.Take(context.Background(), "c", t.TempDir()); err == nil || errors.Is(err, ErrNotApplicable) {
		t.Errorf("plan failure: %v", err)
	}
}

func TestRecoverReportsBadEntries(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "empty.json"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"kind":"zfs","name":"x"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not an entry"), 0o600)
	m := &Manager{Journal: dir, Providers: []Provider{notApplicable{"a"}}}
	got, err := m.Recover(context.Background())
	if len(got) != 0 || err == nil || !strings.Contains(err.Error(), `"zfs"`) {
		t.Errorf("Recover = %v, %v", got, err)
	}
	// An empty entry is a run killed before its snapshot existed: dropped.
	if _, err := os.Stat(filepath.Join(dir, "empty.json")); !os.IsNotExist(err) {
		t.Errorf("empty entry kept: %v", err)
	}
	if got, err := (&Manager{Journal: filepath.Join(dir, "missing")}).Recover(context.Background()); got != nil || err != nil {
		t.Errorf("no journal: %v %v", got, err)
	}
}
