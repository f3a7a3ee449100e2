//go:build integration

package main

// The agent end to end through every real storage of the test environment:
// a 2-level chain backed up and restored with the command line, the
// storage chosen by --storage (and, for Swift, the OS_* environment; the
// others get no OS_* at all).

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/testenv"
)

func runWithEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--nosync", "--log-file", filepath.Join(t.TempDir(), "log"))...)
	cmd.Env = append([]string{"HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("freezer-agent %v: %v\n%s", args, err, errb.String())
	}
	return out.String()
}

func TestAgentThroughEveryStorage(t *testing.T) {
	e := testenv.Load(t)
	name := fmt.Sprintf("agent-it-%d", time.Now().UnixNano())
	cases := map[string]struct {
		env  []string
		args []string
	}{
		"swift": {
			env: []string{
				"OS_AUTH_URL=" + e.Get(t, "OS_AUTH_URL"), "OS_USERNAME=" + e.Get(t, "DEMO_OS_USERNAME"),
				"OS_PASSWORD=" + e.Get(t, "DEMO_OS_PASSWORD"), "OS_PROJECT_NAME=" + e.Get(t, "DEMO_OS_PROJECT_NAME"),
				"OS_USER_DOMAIN_NAME=" + e.Get(t, "DEMO_OS_USER_DOMAIN_NAME"), "OS_PROJECT_DOMAIN_NAME=" + e.Get(t, "DEMO_OS_PROJECT_DOMAIN_NAME"),
				"OS_REGION_NAME=" + e.Get(t, "OS_REGION_NAME"),
			},
			args: []string{"--storage", "swift", "--container", name + "/prefix", "--max-segment-size", "1048576"},
		},
		"s3": {
			args: []string{"--storage", "s3", "--container", name, "--endpoint", e.Get(t, "S3_ENDPOINT"),
				"--access-key", e.Get(t, "DEMO_S3_ACCESS_KEY"), "--secret-key", e.Get(t, "DEMO_S3_SECRET_KEY"), "--max-segment-size", "5242880"},
		},
		"ssh": {
			args: []string{"--storage", "ssh", "--container", e.Get(t, "SSH_CONTAINER") + "/" + name, "--ssh-host", e.Get(t, "SSH_HOST"),
				"--ssh-port", e.Get(t, "SSH_PORT"), "--ssh-username", e.Get(t, "SSH_USER"), "--ssh-key", e.Get(t, "SSH_KEY"),
				"--ssh-known-hosts", e.Get(t, "SSH_KNOWN_HOSTS")},
		},
		"ftp": {
			args: []string{"--storage", "ftp", "--container", e.Get(t, "FTP_CONTAINER") + "/" + name, "--ftp-host", e.Get(t, "FTP_HOST"),
				"--ftp-port", e.Get(t, "FTP_PORT"), "--ftp-username", e.Get(t, "FTP_USER"), "--ftp-password", e.Get(t, "FTP_PASS")},
		},
		"ftps": {
			args: []string{"--storage", "ftps", "--container", e.Get(t, "FTP_CONTAINER") + "/" + name + "-tls", "--ftp-host", e.Get(t, "FTP_HOST"),
				"--ftp-port", e.Get(t, "FTPS_PORT"), "--ftp-username", e.Get(t, "FTP_USER"), "--ftp-password", e.Get(t, "FTP_PASS"),
				"--ftp-cacert", e.Get(t, "FTPS_CACERT")},
		},
	}
	for sname, c := range cases {
		t.Run(sname, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "src")
			step(t, src, 0)
			put(t, filepath.Join(src, "big"), strings.Repeat("0123456789abcdef", 1<<17), 0o644) // 2 MiB: several segments
			common := append([]string{"--backup-name", "st", "--hostname", "h", "--compression", "zstd"}, c.args...)
			out := runWithEnv(t, c.env, append([]string{"--action", "backup", "--path-to-backup", src, "--incremental", "--metadata-out", "-"}, common...)...)
			if !strings.Contains(out, `"curr_backup_level":0`) {
				t.Fatalf("level 0 result %s", out)
			}
			time.Sleep(1100 * time.Millisecond)
			step(t, src, 1)
			out = runWithEnv(t, c.env, append([]string{"--action", "backup", "--path-to-backup", src, "--incremental", "--metadata-out", "-"}, common...)...)
			if !strings.Contains(out, `"curr_backup_level":1`) {
				t.Fatalf("level 1 result %s", out)
			}
			dst := filepath.Join(t.TempDir(), "dst")
			runWithEnv(t, c.env, append([]string{"--action", "restore", "--restore-abs-path", dst}, common...)...)
			sameState(t, sname, treeState(t, src), treeState(t, dst))
			info := runWithEnv(t, c.env, append([]string{"--action", "info"}, common...)...)
			if strings.Count(info, "h_st") != 2 {
				t.Fatalf("info %s", info)
			}
			// Clean up with the agent itself.
			runWithEnv(t, c.env, append([]string{"--action", "admin", "--remove-older-than", "0"}, common...)...)
			if info := runWithEnv(t, c.env, append([]string{"--action", "info"}, common...)...); !strings.Contains(info, "No backups found") {
				t.Fatalf("after admin: %s", info)
			}
		})
	}
}
