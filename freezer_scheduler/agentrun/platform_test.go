package agentrun

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The Windows implementation's logic, tested everywhere.

func TestTaskkillArgs(t *testing.T) {
	if got, want := taskkillArgs(42, false), []string{"/T", "/PID", "42"}; !reflect.DeepEqual(got, want) {
		t.Errorf("polite: %q, want %q", got, want)
	}
	if got, want := taskkillArgs(42, true), []string{"/F", "/T", "/PID", "42"}; !reflect.DeepEqual(got, want) {
		t.Errorf("forced: %q, want %q", got, want)
	}
}

func TestStartedFor(t *testing.T) {
	ini := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		created time.Duration // after ini
		want    bool
	}{
		{-time.Hour, false}, // an older process that has the pid now
		{-3 * time.Second, false},
		{-time.Second, true}, // timestamps rounded differently
		{0, true},
		{200 * time.Millisecond, true},
		{adoptWindow - time.Millisecond, true},
		{adoptWindow, false}, // started after the run: the pid was reused
		{time.Hour, false},
	} {
		if got := startedFor(ini.Add(tc.created), ini); got != tc.want {
			t.Errorf("created ini%+v: %v, want %v", tc.created, got, tc.want)
		}
	}
}

func TestWriteRC(t *testing.T) {
	rc := filepath.Join(t.TempDir(), "job.rc")
	for _, code := range []int{0, 3, -9} {
		if err := writeRC(rc, code); err != nil {
			t.Fatal(err)
		}
		p := newProcess(0, Files{Base: rc[:len(rc)-3]}, 0)
		p.finish(-1, true)
		if r := p.Wait(); r.ExitCode != code || r.Lost {
			t.Errorf("code %d read back as %+v", code, r)
		}
	}
	if _, err := os.Stat(rc + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}
