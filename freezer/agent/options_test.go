package agent

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{
		"2026-03-25T23:23:23":       "2026-03-25T23:23:23Z", // UTC, not local time as upstream
		"2026-03-25 23:23:23":       "2026-03-25T23:23:23Z",
		"2026-03-25T23:23:23Z":      "2026-03-25T23:23:23Z",
		"2026-03-25T23:23:23+01:00": "2026-03-25T22:23:23Z",
		"2026-03-25":                "2026-03-25T00:00:00Z",
	} {
		got, err := ParseDate(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got.Format(time.RFC3339) != want {
			t.Errorf("%q = %s, want %s", in, got.Format(time.RFC3339), want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-13-01T00:00:00", "25/03/2026"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
