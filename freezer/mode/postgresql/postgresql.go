// Package postgresql is the postgresql mode (beyond upstream): a base
// backup of a PostgreSQL server described by --postgresql-conf (INI,
// [default] with host, port, user, password — the same style as
// --mysql-conf), taken by `pg_basebackup -Ft -X fetch -D -`, whose single
// tar (the data directory with the WAL needed to make it consistent) is
// the payload of the stream engine. A restore extracts that tar into the
// restore directory; the server starts on it after `chown -R postgres:`
// (the agent restores the owners recorded in the tar when it runs as root)
// and recovers to the end of the backup on its own.
package postgresql

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"freezer.dev/freezer/freezer/engine/stream"
	"freezer.dev/freezer/freezer/mode"
)

// Config is the [default] section of --postgresql-conf.
type Config struct {
	Host     string // a host name, or a socket directory (starts with /)
	Port     int
	User     string
	Password string
}

// LoadConfig reads --postgresql-conf.
func LoadConfig(path string) (Config, error) {
	v, err := mode.ReadSection(path, "default")
	if err != nil {
		return Config{}, fmt.Errorf("--postgresql-conf: %w", err)
	}
	c := Config{Host: v["host"], User: v["user"], Password: v["password"], Port: 5432}
	if p := v["port"]; p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port <= 0 || c.Port > 65535 {
			return Config{}, fmt.Errorf("--postgresql-conf %s: port %q is not a port number", path, p)
		}
	}
	return c, nil
}

// Available reports whether pg_basebackup is installed.
func Available() bool {
	_, err := exec.LookPath("pg_basebackup")
	return err == nil
}

// escape escapes a field of a .pgpass line.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}

// BaseBackup returns the stream engine's options for the server in c.
// The password goes through a temporary PGPASSFILE (mode 0600), never the
// command line or the environment. tempDir "" = os.TempDir().
func BaseBackup(c Config, tempDir string) stream.Options {
	return stream.Options{
		Backup: func(ctx context.Context, path string) (stream.Command, error) {
			args := []string{"-D", "-", "-Ft", "-X", "fetch", "--checkpoint=fast", "--no-password",
				"--label=freezer"}
			if c.Host != "" {
				args = append(args, "-h", c.Host)
			}
			args = append(args, "-p", strconv.Itoa(c.Port))
			if c.User != "" {
				args = append(args, "-U", c.User)
			}
			cmd := stream.Command{Path: "pg_basebackup", Args: args, Env: []string{"PGAPPNAME=freezer-agent"}}
			if c.Password != "" {
				dir, err := os.MkdirTemp(tempDir, "freezer-pg-*")
				if err != nil {
					return stream.Command{}, err
				}
				pass := filepath.Join(dir, "pgpass")
				line := fmt.Sprintf("*:*:*:%s:%s\n", escape(c.User), escape(c.Password))
				if err := os.WriteFile(pass, []byte(line), 0o600); err != nil {
					os.RemoveAll(dir)
					return stream.Command{}, err
				}
				cmd.Env = append(cmd.Env, "PGPASSFILE="+pass)
				cmd.Done = func() { os.RemoveAll(dir) }
			}
			return cmd, nil
		},
		Stats: func() map[string]any { return map[string]any{"hot_backup": "pg_basebackup"} },
		Restore: func(ctx context.Context, dir string) (stream.Command, []stream.Command, error) {
			// The server refuses a data directory others can read.
			return stream.Command{Path: "tar", Args: []string{"-x", "-f", "-"}},
				[]stream.Command{{Path: "chmod", Args: []string{"0700", dir}}}, nil
		},
	}
}
