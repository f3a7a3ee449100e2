package observe

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

func newLocal(t *testing.T) backup.Storage {
	s, err := local.New(local.Options{Root: filepath.Join(t.TempDir(), "c")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) backup.Storage { return Wrap(newLocal(t), Options{}) })
}

func TestCounts(t *testing.T) {
	var events []Event
	s := Wrap(newLocal(t), Options{Log: func(e Event) { events = append(events, e) }})
	ctx := context.Background()
	if err := s.Put(ctx, "a/data", strings.NewReader("12345")); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "a/data")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(rc)
	rc.Close()
	rc.Close()
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatal(err)
	}
	s.List(ctx, "a")
	s.Delete(ctx, "a")
	m := s.Metrics()
	if c := m.Get(storage.OpPut); c.Calls != 1 || c.Bytes != 5 || c.Errors != 0 {
		t.Errorf("put %+v", c)
	}
	if c := m.Get(storage.OpGet); c.Calls != 2 || c.Bytes != 5 || c.Errors != 1 {
		t.Errorf("get %+v", c)
	}
	if c := m.Get(storage.OpList); c.Calls != 1 {
		t.Errorf("list %+v", c)
	}
	if c := m.Get(storage.OpDelete); c.Calls != 1 {
		t.Errorf("delete %+v", c)
	}
	if len(events) != 5 || events[0].Op != storage.OpPut || events[0].Key != "a/data" || events[0].Storage == "" {
		t.Errorf("events %+v", events)
	}
}

func TestLogTo(t *testing.T) {
	var buf strings.Builder
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.DebugLevel)
	s := Wrap(newLocal(t), Options{Log: LogTo(logrus.NewEntry(l))})
	ctx := context.Background()
	s.Put(ctx, "k", strings.NewReader("abc"))
	s.Get(ctx, "missing")
	out := buf.String()
	if !strings.Contains(out, "op=put") || !strings.Contains(out, "bytes=3") || !strings.Contains(out, "level=warning") || !strings.Contains(out, "key=missing") {
		t.Fatalf("log:\n%s", out)
	}
}
