package stream

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

func TestRoundTrip(t *testing.T) {
	var lines []string
	done := false
	e := New(Options{
		Backup: func(ctx context.Context, path string) (Command, error) {
			return Command{Path: "sh", Args: []string{"-c", "echo step one >&2; cat \"$1\"; echo step two >&2", "sh", path},
				Done: func() { done = true }}, nil
		},
		StderrLine: func(l string) { lines = append(lines, l) },
		Restore: func(ctx context.Context, dir string) (Command, []Command, error) {
			return Command{Path: "sh", Args: []string{"-c", "cat > payload"}},
				[]Command{{Path: "sh", Args: []string{"-c", "cp payload prepared"}}}, nil
		},
	})
	src := filepath.Join(t.TempDir(), "in")
	os.WriteFile(src, []byte("hello stream"), 0o644)
	var out, state bytes.Buffer
	st, err := e.Backup(context.Background(), backup.BackupRequest{Path: src, State: &state}, &out)
	if err != nil || out.String() != "hello stream" || st.Bytes != 12 || !done {
		t.Fatalf("backup: %v %q %+v done=%v", err, out.String(), st, done)
	}
	if strings.Join(lines, "|") != "step one|step two" {
		t.Errorf("stderr lines %q", lines)
	}
	dir := t.TempDir()
	if _, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: dir}, &out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "prepared")); string(b) != "hello stream" {
		t.Errorf("restored %q", b)
	}
}

func TestCommandFailureFails(t *testing.T) {
	e := New(Options{
		Backup: func(ctx context.Context, path string) (Command, error) {
			return Command{Path: "sh", Args: []string{"-c", "echo partial; echo boom >&2; exit 3"}}, nil
		},
		Restore: func(ctx context.Context, dir string) (Command, []Command, error) {
			return Command{Path: "sh", Args: []string{"-c", "head -c 1 >/dev/null; echo bad >&2; exit 1"}}, nil, nil
		},
	})
	_, err := e.Backup(context.Background(), backup.BackupRequest{Path: "/"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("backup: %v", err)
	}
	_, err = e.Restore(context.Background(), backup.RestoreRequest{Dir: t.TempDir()}, strings.NewReader("xyz"))
	if err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("restore: %v", err)
	}
}
