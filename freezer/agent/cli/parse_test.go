package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgsSpellings(t *testing.T) {
	opts := schema()
	cases := []struct {
		args []string
		want map[string]string
	}{
		{[]string{"--path-to-backup", "/d", "--backup-name=b"}, map[string]string{"path_to_backup": "/d", "backup_name": "b"}},
		{[]string{"-F", "/d", "-Nb", "-C", "c", "-M", "5", "-R", "3", "-m", "fs", "-e", "tar"},
			map[string]string{"path_to_backup": "/d", "backup_name": "b", "container": "c", "max_segment_size": "5", "remove_older_than": "3", "mode": "fs", "engine_name": "tar"}},
		{[]string{"--engine", "tar", "--os-auth-ver", "3", "--logfile", "/l"}, map[string]string{"engine_name": "tar", "os_identity_api_version": "3", "log_file": "/l"}},
		{[]string{"--dry-run", "--nosync", "-q", "-d"}, map[string]string{"dry_run": "true", "sync": "false", "quiet": "true", "debug": "true"}},
		{[]string{"--incremental"}, map[string]string{"incremental": "true"}},
		{[]string{"--noincremental"}, map[string]string{"incremental": "false"}},
		// 13.0 spelled --no-incremental with a value; HEAD has no such option.
		{[]string{"--no-incremental"}, map[string]string{"no_incremental": "true"}},
		{[]string{"--no-incremental", "True", "--max-level", "2"}, map[string]string{"no_incremental": "true", "max_level": "2"}},
		{[]string{"--no-incremental", "False"}, map[string]string{"no_incremental": "false"}},
		{[]string{"--no-incremental", "--max-level", "2"}, map[string]string{"no_incremental": "true", "max_level": "2"}},
		{[]string{"--consistency-check", "--consistency-checksum", "ab"}, map[string]string{"consistency_check": "true", "consistency_checksum": "ab"}},
		{[]string{"--overwrite=false"}, map[string]string{"overwrite": "false"}},
		{[]string{"--metadata-out", "-"}, map[string]string{"metadata_out": "-"}},
	}
	for _, c := range cases {
		cl, err := parseArgs(c.args, opts)
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		if got := argValues(cl); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.args, got, c.want)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	opts := schema()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--blabla"}, "unrecognized arguments: --blabla"},
		{[]string{"stray"}, "unrecognized arguments: stray"},
		{[]string{"--backup-name"}, "expected one argument"},
		{[]string{"--dry-run=maybe"}, "not a boolean"},
	} {
		_, err := parseArgs(c.args, opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
	cl, err := parseArgs([]string{"--help", "--version"}, opts)
	if err != nil || !cl.args.Bool("", "help") || !cl.args.Bool("", "version") {
		t.Fatalf("help/version: %+v %v", cl, err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolvePrecedenceAndJobValues(t *testing.T) {
	job := writeFile(t, "job.ini", `[action]
backup_name = fromjob
container = /from/job
max_level = 3
dry_run = True
overwrite = false
exclude = None
compression = False
unknown_key = 1
Engine = tar
always_level =
compression_unused =

[storage:a]
storage = local
container = /tmp/a
[storage:b]
storage = ssh
container = /srv/b
ssh_host = h
ssh_port = 2222
`)
	oslo := writeFile(t, "agent.conf", "[DEFAULT]\nhostname = fromoslo\nbackup_name = fromoslo\n")
	cl, err := parseArgs([]string{"--config", job, "--config-file", oslo, "--container", "/from/cli"}, schema())
	if err != nil {
		t.Fatal(err)
	}
	s, err := resolve(cl, schema(), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"backup_name": "fromjob",   // job > oslo
		"hostname":    "fromoslo",  // oslo > default
		"container":   "/from/cli", // cli > job
		"action":      "backup",    // default
		"exclude":     "",          // None = unset
		"compression": "",          // False = unset
		"engine_name": "tar",
	}
	for k, want := range checks {
		if got := s.str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !s.bool("dry_run") || s.bool("overwrite") || s.int("max_level") != 3 {
		t.Errorf("typed values wrong: dry_run %v overwrite %v max_level %d", s.bool("dry_run"), s.bool("overwrite"), s.int("max_level"))
	}
	if s.int("always_level") != 0 || s.setBy("always_level") != "" {
		t.Errorf("empty always_level: %q set by %q", s.str("always_level"), s.setBy("always_level"))
	}
	if !reflect.DeepEqual(s.unknown, []string{"compression_unused", "unknown_key"}) {
		t.Errorf("unknown %v", s.unknown)
	}
	specs, err := s.storageSpecs(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || specs[0].Type != "local" || specs[0].Container != "/tmp/a" || specs[1].Type != "ssh" ||
		specs[1].Options["ssh_host"] != "h" || specs[1].Options["ssh_port"] != "2222" || specs[0].Options["max_segment_size"] != "33554432" {
		t.Fatalf("specs %+v", specs)
	}
}

func TestResolveRejectsBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"--max-level", "two"},
		{"--remove-older-than", "x"},
		{"--compression", "lz4"},
		{"--action", "explode"},
		{"--storage", "tape"},
	} {
		cl, err := parseArgs(args, schema())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := resolve(cl, schema(), os.Getenv); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	cl, err := parseArgs([]string{"--config", "/does/not/exist.ini"}, schema())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resolve(cl, schema(), os.Getenv); err == nil {
		t.Error("missing --config file accepted")
	}
}

func TestIncrementalDefault(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--incremental"}, true},
		{[]string{"--max-level", "2"}, true},
		{[]string{"--always-level", "2"}, true},
		{[]string{"--restart-always-level", "0.5"}, true},
		{[]string{"--max-level", "2", "--no-incremental"}, false},
		{[]string{"--max-level", "2", "--noincremental"}, false},
		{[]string{"--incremental", "--no-incremental"}, false},
		{[]string{"--max-level", "2", "--no-incremental=anything"}, false}, // 13.0: any non-empty value
	} {
		cl, err := parseArgs(c.args, schema())
		if err != nil {
			t.Fatal(err)
		}
		s, err := resolve(cl, schema(), os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.incremental(); got != c.want {
			t.Errorf("%v: incremental %v, want %v", c.args, got, c.want)
		}
	}
}

func TestUnsupportedOptionsFail(t *testing.T) {
	for _, args := range [][]string{
		{"--nova-inst-id", "x"},
	} {
		cl, _ := parseArgs(args, schema())
		s, err := resolve(cl, schema(), os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.agentOptions(os.Getenv); err == nil || exitCode(err) != ExitUsage {
			t.Errorf("%v: err %v, want a usage error", args, err)
		}
	}
	// A job INI that says "snapshot = False" is fine.
	job := writeFile(t, "j.ini", "[action]\nsnapshot = False\nbackup_name = b\n")
	cl, _ := parseArgs([]string{"--config", job}, schema())
	s, err := resolve(cl, schema(), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.agentOptions(os.Getenv); err != nil {
		t.Errorf("snapshot = False rejected: %v", err)
	}
}

func TestStorageSectionNeedsStorageAndContainer(t *testing.T) {
	job := writeFile(t, "j.ini", "[storage:x]\nstorage = local\n")
	cl, _ := parseArgs([]string{"--config", job}, schema())
	s, err := resolve(cl, schema(), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.storageSpecs(os.Getenv); err == nil || !strings.Contains(err.Error(), "storage:x") {
		t.Fatalf("err %v", err)
	}
}

// Without --config-file the default oslo files are read (upstream's agent
// reads /etc/freezer/freezer.conf and friends); with it they are not.
// Without --config-dir the default directories are read.
func TestDefaultOsloConfigFiles(t *testing.T) {
	def := writeFile(t, "freezer.conf", "[DEFAULT]\nbackup_name = fromdefault\nhostname = defhost\n")
	given := writeFile(t, "given.conf", "[DEFAULT]\nbackup_name = fromgiven\n")
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/x.conf", []byte("[DEFAULT]\ncontainer = fromdir\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args                         []string
		name, host, container, setBy string
	}{
		{nil, "fromdefault", "defhost", "fromdir", fromOslo},
		{[]string{"--config-file", given}, "fromgiven", "", "fromdir", fromOslo},
		{[]string{"--backup-name", "fromcli"}, "fromcli", "defhost", "fromdir", fromCLI},
	} {
		cl, err := parseArgs(tc.args, schema())
		if err != nil {
			t.Fatal(err)
		}
		cl.defaultFiles, cl.defaultDirs = []string{def}, []string{dir}
		s, err := resolve(cl, schema(), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if s.str("backup_name") != tc.name || s.setBy("backup_name") != tc.setBy || s.str("container") != tc.container {
			t.Errorf("args %v: backup_name %q (by %s), container %q", tc.args, s.str("backup_name"), s.setBy("backup_name"), s.str("container"))
		}
		if tc.host != "" && s.str("hostname") != tc.host {
			t.Errorf("args %v: hostname %q, want %q", tc.args, s.str("hostname"), tc.host)
		}
		if tc.host == "" && s.str("hostname") == "defhost" {
			t.Errorf("args %v: the default file was read although --config-file was given", tc.args)
		}
	}
}

// The oslo-style files (--config-file) are read with oslo.config's $option
// substitution, as the Python agent reads them; a $ naming no option is an
// error that names the option.
func TestOsloFilesSubstitute(t *testing.T) {
	oslo := writeFile(t, "agent.conf", "[DEFAULT]\nbase = /srv\ncontainer = $base/backups\nhostname = web$$1\n")
	s := mustResolve(t, "--config-file", oslo, "--backup-name", "b")
	if s.str("container") != "/srv/backups" || s.str("hostname") != "web$1" {
		t.Errorf("container %q hostname %q", s.str("container"), s.str("hostname"))
	}
	oslo = writeFile(t, "bad.conf", "[DEFAULT]\ncontainer = $nosuch/x\n")
	cl, err := parseArgs([]string{"--config-file", oslo, "--backup-name", "b"}, schema())
	if err == nil {
		_, err = resolve(cl, schema(), os.Getenv)
	}
	if err == nil || !strings.Contains(err.Error(), "option [DEFAULT] container: $nosuch") {
		t.Errorf("error %v", err)
	}
}

// mustResolve parses args and resolves the options as the agent does,
// failing the test on any error.
func mustResolve(t *testing.T, args ...string) *settings {
	t.Helper()
	cl, err := parseArgs(args, schema())
	if err != nil {
		t.Fatal(err)
	}
	s, err := resolve(cl, schema(), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// argValues is the command line's settings by option name, last one
// winning.
func argValues(cl cmdline) map[string]string {
	m := map[string]string{}
	for _, st := range cl.args.Settings {
		m[st.Opt.Name] = st.Value
	}
	return m
}
