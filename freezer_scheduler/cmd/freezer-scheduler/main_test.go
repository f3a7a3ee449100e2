package main

import (
	"path/filepath"
	"testing"
)

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--config-dir", dir, "--pid-file", filepath.Join(dir, "s.pid")}
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, exitOK},
		{[]string{"--version"}, exitOK},
		{append(base, "status"), exitNotRunning},
		{append(base, "stop"), exitNotRunning},
		{append(base, "reload"), exitNotRunning},
		{append(base, "--blabla", "start"), exitUsage},
		{append(base, "explode"), exitUsage},
		{append(base, "-i", "0", "start"), exitData},
		// Foreground start that cannot find its agent fails cleanly.
		{append(base, "--no-daemon", "--no-api", "--jobs-dir", dir, "--agent-path", "", "start"), exitFailure},
	}
	t.Setenv("PATH", dir) // no freezer-agent anywhere
	for _, c := range cases {
		if got := run(c.args); got != c.want {
			t.Errorf("run(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}
