//go:build integration

package main

// TestAgentThroughEveryStorage for --engine rsyncv2: levels 0..2 with a
// changed block in the middle of a big file, an append and a delete
// between levels, through every real storage of the test environment,
// restored and compared to the source.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/testenv"
)

// rsyncStep changes the tree between rsyncv2 levels.
func rsyncStep(t *testing.T, src string, n int) {
	t.Helper()
	j := func(p ...string) string { return filepath.Join(append([]string{src}, p...)...) }
	switch n {
	case 0:
		put(t, j("big"), strings.Repeat("0123456789abcdef", 1<<17), 0o644) // 2 MiB: many blocks
		put(t, j("log.txt"), strings.Repeat("line\n", 1000), 0o644)
		put(t, j("d", "gone.txt"), "to be deleted", 0o600)
		put(t, j("d", "keep.txt"), "kept", 0o644)
		os.Symlink("big", j("link"))
	case 1:
		// One block changed in the middle of big.
		f, err := os.OpenFile(j("big"), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("CHANGED BLOCK"), 1<<20); err != nil {
			t.Fatal(err)
		}
		f.Close()
		os.Remove(j("d", "gone.txt"))
	case 2:
		f, err := os.OpenFile(j("log.txt"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(strings.Repeat("appended\n", 500))
		f.Close()
		os.Remove(j("link"))
		put(t, j("d", "new.txt"), "new at level 2", 0o644)
	}
}

func TestRsyncAgentThroughEveryStorage(t *testing.T) {
	e := testenv.Load(t)
	name := fmt.Sprintf("agent-rsync-it-%d", time.Now().UnixNano())
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
	}
	for sname, c := range cases {
		t.Run(sname, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "src")
			common := append([]string{"--engine", "rsyncv2", "--max-level", "5", "--backup-name", "rs", "--hostname", "h", "--compression", "zstd"}, c.args...)
			for level := 0; level <= 2; level++ {
				if level > 0 {
					time.Sleep(1100 * time.Millisecond) // mtimes compare by the second
				}
				rsyncStep(t, src, level)
				out := runWithEnv(t, c.env, append([]string{"--action", "backup", "--path-to-backup", src, "--metadata-out", "-"}, common...)...)
				if !strings.Contains(out, fmt.Sprintf(`"curr_backup_level":%d`, level)) || !strings.Contains(out, `"engine_name":"rsync"`) {
					t.Fatalf("level %d result %s", level, out)
				}
			}
			dst := filepath.Join(t.TempDir(), "dst")
			runWithEnv(t, c.env, append([]string{"--action", "restore", "--restore-abs-path", dst}, common...)...)
			sameState(t, sname, treeState(t, src), treeState(t, dst))
			info := runWithEnv(t, c.env, append([]string{"--action", "info"}, common...)...)
			if strings.Count(info, "h_rs") != 3 {
				t.Fatalf("info %s", info)
			}
			runWithEnv(t, c.env, append([]string{"--action", "admin", "--remove-older-than", "0"}, common...)...)
			if info := runWithEnv(t, c.env, append([]string{"--action", "info"}, common...)...); !strings.Contains(info, "No backups found") {
				t.Fatalf("after admin: %s", info)
			}
		})
	}
}
