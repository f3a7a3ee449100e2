package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestModeUsageErrors(t *testing.T) {
	src, store := t.TempDir(), t.TempDir()
	conf := filepath.Join(t.TempDir(), "c.ini")
	os.WriteFile(conf, []byte("[default]\ninstance = X\n"), 0o600)
	base := []string{"--storage", "local", "--container", store, "--backup-name", "b", "--path-to-backup", src, "--nosync",
		"--snapshot-journal", filepath.Join(t.TempDir(), "j")}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "mysql"}, "needs --mysql-conf"},
		{[]string{"--mode", "mysql", "--mysql-conf", conf + ".missing"}, "--mysql-conf"},
		{[]string{"--mode", "postgresql"}, "needs --postgresql-conf"},
		{[]string{"--mode", "sqlserver", "--sql-server-conf", conf}, "VSS"},
		{[]string{"--mode", "fs", "--snapshot", "lvm", "--lvm-snap-perm", "rx"}, "--lvm-snap-perm"},
		{[]string{"--mode", "fs", "--engine", "stream"}, "--engine stream is for"},
		{[]string{"--mode", "fs", "--snapshot", "lmv"}, `--snapshot "lmv"`},
	} {
		code, _, errOut := runCLIWithDeps(t, append(base, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// --snapshot takes a kind or a boolean as config.ParseBool reads it.
func TestSnapshotKind(t *testing.T) {
	for v, want := range map[string]string{
		"": "", "False": "", "no": "", "off": "", "0": "",
		"True": "auto", "yes": "auto", "1": "auto", "auto": "auto",
		"btrfs": "btrfs", "LVM": "lvm",
	} {
		if got, err := snapshotKind(v); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", v, got, err, want)
		}
	}
	for _, v := range []string{"lmv", "none", "zfs"} {
		if _, err := snapshotKind(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestPrintCapabilities(t *testing.T) {
	code, out, _ := runCLI(t, "--print-capabilities")
	var c Capabilities
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil {
		t.Fatalf("exit %d, %q", code, out)
	}
	if strings.Join(c.Modes, ",") != "fs,mysql,postgresql,mongo,glance" || len(c.Engines) == 0 || len(c.Snapshots) != 2 {
		t.Errorf("%+v", c)
	}
}

func runCLIWithDeps(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	logger := logrus.New()
	logger.SetOutput(&bytes.Buffer{})
	code = Run(context.Background(), Env{Args: args, Stdout: &out, Stderr: &errb, Getenv: os.Getenv, Log: logger, Deps: DefaultDeps()})
	return code, out.String(), errb.String()
}

// Without mariadb-backup, --mode mysql without --snapshot refuses and
// says to use --snapshot (never upstream's inconsistent copy).
func TestMySQLWithoutHotBackupToolNamesSnapshot(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	conf := filepath.Join(t.TempDir(), "my.conf")
	os.WriteFile(conf, []byte("[default]\nhost = 127.0.0.1\nuser = root\n"), 0o600)
	code, _, errOut := runCLIWithDeps(t, "--storage", "local", "--container", t.TempDir(), "--backup-name", "b",
		"--path-to-backup", t.TempDir(), "--nosync", "--snapshot-journal", filepath.Join(t.TempDir(), "j"),
		"--mode", "mysql", "--mysql-conf", conf)
	if code != ExitUsage || !strings.Contains(errOut, "mariadb-backup") || !strings.Contains(errOut, "--snapshot") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// A restore with --mode mysql follows the stored backup's metadata: a tar
// backup (what a --snapshot mysql backup is) restores with the tar engine
// though a mysql hot backup would be a stream, and a backup whose metadata
// records another mode is refused with a message naming it.
func TestRestoreFollowsStoredEngine(t *testing.T) {
	src, store := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(src, "ibdata1"), []byte("pages"), 0o600)
	base := []string{"--storage", "local", "--container", store, "--backup-name", "db", "--nosync",
		"--snapshot-journal", filepath.Join(t.TempDir(), "j")}
	if code, _, errOut := runCLIWithDeps(t, append(base, "--path-to-backup", src)...); code != ExitOK {
		t.Fatalf("backup: %d %s", code, errOut)
	}
	dst := filepath.Join(t.TempDir(), "r")
	code, _, errOut := runCLIWithDeps(t, append(base, "--action", "restore", "--mode", "mysql", "--restore-abs-path", dst)...)
	if b, _ := os.ReadFile(filepath.Join(dst, "ibdata1")); code != ExitOK || string(b) != "pages" {
		t.Fatalf("restore --mode mysql of a tar backup: exit %d, %q, file %q", code, errOut, b)
	}

	var mds []string
	filepath.WalkDir(store, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "metadata" && !d.IsDir() {
			mds = append(mds, p)
		}
		return nil
	})
	if len(mds) != 1 {
		t.Fatalf("metadata objects: %v", mds)
	}
	b, _ := os.ReadFile(mds[0])
	var md map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(b), &md); err != nil {
		t.Fatal(err)
	}
	md["mode"] = "postgresql"
	b, _ = json.Marshal(md)
	os.WriteFile(mds[0], b, 0o600)
	code, _, errOut = runCLIWithDeps(t, append(base, "--action", "restore", "--mode", "mysql", "--restore-abs-path", t.TempDir())...)
	if code != ExitUsage || !strings.Contains(errOut, "--mode postgresql backup, not --mode mysql") {
		t.Errorf("mode mismatch: exit %d, stderr %q", code, errOut)
	}
}

// An explicit --engine reads only that engine's backups; when the name's
// backups were made with another one, the not-found error names it.
func TestRestoreExplicitEngineMismatchNamesStoredEngine(t *testing.T) {
	src, store := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("x"), 0o600)
	base := []string{"--storage", "local", "--container", store, "--backup-name", "db", "--nosync",
		"--snapshot-journal", filepath.Join(t.TempDir(), "j")}
	if code, _, errOut := runCLIWithDeps(t, append(base, "--path-to-backup", src)...); code != ExitOK {
		t.Fatalf("backup: %d %s", code, errOut)
	}
	code, _, errOut := runCLIWithDeps(t, append(base, "--action", "restore", "--engine", "rsync", "--restore-abs-path", t.TempDir())...)
	if code != ExitNotFound || !strings.Contains(errOut, "made with --engine tar") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
