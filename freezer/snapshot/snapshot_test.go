package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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

// recording is a provider that keeps the set of snapshots that exist and
// fails the test if one is removed while its owner still holds it.
type recording struct {
	t    *testing.T
	mu   sync.Mutex
	n    int
	live map[string]bool // created and owned by a running Take
}

func (r *recording) Kind() string { return "rec" }
func (r *recording) Plan(context.Context, string) (Record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return Record{Name: fmt.Sprintf("snap%d", r.n)}, nil
}
func (r *recording) Create(_ context.Context, rec Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live[rec.Name] = true
	return nil
}
func (r *recording) Remove(_ context.Context, rec Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live[rec.Name] {
		r.t.Errorf("snapshot %s removed while its owner holds it", rec.Name)
	}
	return nil
}
func (r *recording) drop(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, name)
}

// Agents starting at once: while some take snapshots, others recover the
// journal. No live snapshot is ever taken for a dead run's (its entry is
// locked before it can be seen), and a dead run's entry is removed once,
// by one of them.
func TestJournalTakeAndRecoverRace(t *testing.T) {
	dir := t.TempDir()
	p := &recording{t: t, live: map[string]bool{}}
	m := &Manager{Journal: dir, Providers: []Provider{p}}
	// A dead run's entries, to be recovered exactly once.
	var deadRemoved sync.Map
	for i := 0; i < 20; i++ {
		s, err := m.Take(context.Background(), "rec", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		p.drop(s.Record.Name)
		s.Release()
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() { // a taker
			defer wg.Done()
			for i := 0; i < 50; i++ {
				s, err := m.Take(context.Background(), "rec", dir)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := os.Stat(filepath.Join(dir, s.Record.Name+".json")); err != nil {
					t.Errorf("live snapshot's journal entry: %v", err)
				}
				p.drop(s.Record.Name)
				if err := s.Remove(context.Background()); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() { // a recoverer
			defer wg.Done()
			for i := 0; i < 50; i++ {
				got, err := m.Recover(context.Background())
				if err != nil {
					t.Errorf("Recover: %v", err)
				}
				for _, r := range got {
					if _, dup := deadRemoved.LoadOrStore(r.Name, true); dup {
						t.Errorf("%s recovered twice", r.Name)
					}
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	deadRemoved.Range(func(any, any) bool { n++; return true })
	if n != 20 {
		t.Errorf("%d dead entries recovered, want 20", n)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("journal not empty: %d entries", len(ents))
	}
}

// Created comes from the Manager's clock, and a half-written entry (a run
// killed before it linked it: no snapshot exists for it) is deleted only
// once it is older than staleNew by that clock, since a younger one may be
// a run between creating and locking it.
func TestJournalClock(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := t0
	p := &recording{t: t, live: map[string]bool{}}
	m := &Manager{Journal: dir, Providers: []Provider{p}, Now: func() time.Time { return now }}
	s, err := m.Take(context.Background(), "rec", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Record.Created.Equal(t0) {
		t.Errorf("Created = %v, want %v", s.Record.Created, t0)
	}
	p.drop(s.Record.Name)
	s.Remove(context.Background())

	half := filepath.Join(dir, ".x"+newSuffix)
	os.WriteFile(half, []byte(`{"kind":"rec"`), 0o600)
	os.Chtimes(half, t0, t0)
	now = t0.Add(staleNew - time.Second)
	if _, err := m.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); err != nil {
		t.Fatalf("a young half-written entry was deleted: %v", err)
	}
	now = t0.Add(staleNew)
	if _, err := m.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(half); !os.IsNotExist(err) {
		t.Errorf("a stale half-written entry was kept: %v", err)
	}
}
