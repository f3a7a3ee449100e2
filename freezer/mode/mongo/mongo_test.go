package mongo

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fakeShell stands for mongosh: there is no MongoDB here.
type fakeShell struct {
	reply string
	calls []string
}

func (f *fakeShell) run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, strings.Join(append([]string{name}, args...), " "))
	return []byte(f.reply), nil
}

func TestFakeMongoPrimaryCheck(t *testing.T) {
	all := func(string) (string, error) { return "/usr/bin/x", nil }
	for _, tc := range []struct {
		name, reply string
		wantErr     error
	}{
		{"primary", `{"ismaster":true,"me":"db1:27017","primary":"db1:27017","setName":"rs0"}`, nil},
		{"secondary", `{"ismaster":false,"me":"db2:27017","primary":"db1:27017","setName":"rs0"}`, ErrNotPrimary},
		{"standalone", `{"ismaster":true}`, ErrNotPrimary},
		{"warning first", "Warning: something\n" + `{"ismaster":true,"me":"db1:27017","primary":"db1:27017"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeShell{reply: tc.reply}
			c := &Check{Host: "db1", Run: f.run, LookPath: all}
			err := c.Prepare(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			want := []string{`mongosh --quiet --host db1:27017 --eval JSON.stringify(db.isMaster())`}
			if !reflect.DeepEqual(f.calls, want) {
				t.Errorf("calls %v", f.calls)
			}
		})
	}
}

func TestFakeMongoShellChoice(t *testing.T) {
	f := &fakeShell{reply: `{"me":"h:27017","primary":"h:27017"}`}
	legacy := func(n string) (string, error) {
		if n == "mongo" {
			return "/usr/bin/mongo", nil
		}
		return "", errors.New("not found")
	}
	if err := (&Check{Host: "h", Run: f.run, LookPath: legacy}).Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.calls[0], "mongo --quiet") {
		t.Errorf("calls %v", f.calls)
	}
	none := func(string) (string, error) { return "", errors.New("not found") }
	if err := (&Check{Host: "h", Run: f.run, LookPath: none}).Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "mongosh") {
		t.Errorf("no shell: %v", err)
	}
}
