package mode

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/snapshot"
)

type log []string

type fakeHooks struct {
	l           *log
	prepareErr  error
	releaseErrs int
}

func (h *fakeHooks) Name() string { return "fake" }
func (h *fakeHooks) Prepare(context.Context) error {
	*h.l = append(*h.l, "lock")
	return h.prepareErr
}
func (h *fakeHooks) Release(context.Context) error {
	*h.l = append(*h.l, "unlock")
	if h.releaseErrs > 0 {
		h.releaseErrs--
		return errors.New("unlock failed")
	}
	return nil
}

// fakeProvider stands for a snapshot provider; it records its steps.
type fakeProvider struct {
	l         *log
	createErr error
}

func (p *fakeProvider) Kind() string { return "fake" }
func (p *fakeProvider) Plan(_ context.Context, path string) (snapshot.Record, error) {
	return snapshot.Record{Name: "s1", Source: path, BackupPath: "/snap" + path}, nil
}
func (p *fakeProvider) Create(context.Context, snapshot.Record) error {
	*p.l = append(*p.l, "snapshot")
	return p.createErr
}
func (p *fakeProvider) Remove(context.Context, snapshot.Record) error {
	*p.l = append(*p.l, "remove")
	return nil
}

func newSource(t *testing.T, l *log, h *fakeHooks, p *fakeProvider) *Source {
	return &Source{Hooks: h, Kind: "auto", Snapshots: &snapshot.Manager{
		Journal: filepath.Join(t.TempDir(), "j"), Providers: []snapshot.Provider{p}}}
}

// Spec §7.1: lock, snapshot, unlock at once; the snapshot goes after the
// backup; a failure at any step still unlocks and removes.
func TestFakeSourceOrder(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		prepareErr error
		createErr  error
		want       []string
		wantErr    bool
	}{
		{"ok", nil, nil, []string{"lock", "snapshot", "unlock", "remove"}, false},
		{"lock fails", errors.New("no"), nil, []string{"lock", "unlock"}, true},
		{"snapshot fails", nil, errors.New("no"), []string{"lock", "snapshot", "remove", "unlock"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l log
			h := &fakeHooks{l: &l, prepareErr: tc.prepareErr}
			s := newSource(t, &l, h, &fakeProvider{l: &l, createErr: tc.createErr})
			p, err := s.Prepare(ctx, "/data")
			if (err != nil) != tc.wantErr {
				t.Fatalf("Prepare: %v", err)
			}
			if err == nil {
				if p.Path != "/snap/data" || p.Snapshot != "fake" {
					t.Errorf("prepared %+v", p)
				}
				if _, ok := p.Stats["lock_seconds"]; !ok {
					t.Error("no lock_seconds")
				}
			}
			if err := s.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Release(ctx); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual([]string(l), tc.want) {
				t.Errorf("steps %v, want %v", l, tc.want)
			}
			if ents, _ := os.ReadDir(s.Snapshots.Journal); len(ents) != 0 {
				t.Errorf("journal left")
			}
		})
	}
}

func TestReadSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.ini")
	os.WriteFile(p, []byte("# c\n[client]\nhost=x\n[default]\nHost = db1\nport: 3307\n; x\npassword = a=b\n"), 0o600)
	v, err := ReadSection(p, "default")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v, map[string]string{"host": "db1", "port": "3307", "password": "a=b"}) {
		t.Errorf("got %v", v)
	}
	if _, err := ReadSection(p, "DEFAULT"); err == nil {
		t.Error("[DEFAULT] matched [default]")
	}
}

// The lock time and the snapshot's journal record come from the injected
// clock: lock at t0, unlock 2.5 s later by that clock, whatever the wall
// clock did.
func TestSourceClock(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	ticks := []time.Time{t0, t0.Add(2500 * time.Millisecond)}
	now := func() time.Time {
		v := ticks[0]
		if len(ticks) > 1 {
			ticks = ticks[1:]
		}
		return v
	}
	var l log
	s := newSource(t, &l, &fakeHooks{l: &l}, &fakeProvider{l: &l})
	s.Now = now
	var created time.Time
	s.Snapshots.Now = func() time.Time { created = t0.Add(time.Hour); return created }
	p, err := s.Prepare(context.Background(), "/data")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release(context.Background())
	if got := p.Stats["lock_seconds"]; got != 2.5 {
		t.Errorf("lock_seconds = %v, want 2.5", got)
	}
	if s.LockHeld() != 2500*time.Millisecond {
		t.Errorf("LockHeld = %v", s.LockHeld())
	}
	if !s.snap.Record.Created.Equal(created) || created.IsZero() {
		t.Errorf("Created = %v, want %v", s.snap.Record.Created, created)
	}
}
