package sqlserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type fakeNet struct {
	calls []string
	fail  string
}

func (f *fakeNet) run(_ context.Context, name string, args ...string) error {
	c := strings.Join(append([]string{name}, args...), " ")
	f.calls = append(f.calls, c)
	if f.fail != "" && strings.HasPrefix(c, f.fail) {
		return errors.New("System error 5")
	}
	return nil
}

func TestFakeSQLServerStopStart(t *testing.T) {
	f := &fakeNet{}
	s := &Service{Instance: "MSSQLSERVER", Run: f.run}
	ctx := context.Background()
	if err := s.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	s.Release(ctx)
	s.Release(ctx) // once only
	want := []string{"net stop SQL Server (MSSQLSERVER)", "net start SQL Server (MSSQLSERVER)"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("calls %q", f.calls)
	}
	// A failed stop is not followed by a start.
	f = &fakeNet{fail: "net stop"}
	s = &Service{Instance: "X", Run: f.run}
	if err := s.Prepare(ctx); err == nil {
		t.Fatal("no error")
	}
	s.Release(ctx)
	if len(f.calls) != 1 {
		t.Errorf("calls %q", f.calls)
	}
}

func TestLoadInstance(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.ini")
	os.WriteFile(p, []byte("[default]\ninstance = SQLEXPRESS\n"), 0o600)
	if i, err := LoadInstance(p); err != nil || i != "SQLEXPRESS" {
		t.Errorf("%q %v", i, err)
	}
	os.WriteFile(p, []byte("[default]\n"), 0o600)
	if _, err := LoadInstance(p); err == nil {
		t.Error("no error")
	}
}
