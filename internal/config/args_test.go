package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func argsSchema() Schema {
	return append(Schema{
		{Name: "path", Short: "F", Help: "Path."},
		{Name: "engine_name", Aliases: []string{"engine"}, Help: "Engine."},
		{Name: "sync", Type: Bool, Default: "true", Help: "Sync."},
		{Name: "no_incremental", Type: Bool, Lenient: true, Help: "13.0 string option."},
		{Name: "incremental", Type: Bool, Help: "Incremental."},
		{Name: "config_file", Type: MultiString, CLIOnly: true, Help: "Files."},
		{Group: "scheduler", Name: "interval", Short: "i", Type: Int, Default: "60", Help: "Seconds.",
			Deprecated: []Name{{Group: "DEFAULT", Name: "interval_secs"}}},
		{Group: "scheduler", Name: "no_api", Type: Bool, Help: "No API."},
		{Name: "lvm_snapsize", Default: "1G", NoEffect: "no snapshots yet", Help: "Size."},
		{Name: "snapshot", Unsupported: "no snapshots", Help: "Snapshot."},
	}, ProgramOpts("Program", "a sample")...)
}

func TestParseArgsSpellings(t *testing.T) {
	s := argsSchema()
	for _, c := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"--path", "/d"}, map[string]string{"path": "/d"}},
		{[]string{"-F/d", "--engine=tar"}, map[string]string{"path": "/d", "engine_name": "tar"}},
		{[]string{"--engine-name", "tar", "--nosync"}, map[string]string{"engine_name": "tar", "sync": "false"}},
		{[]string{"--sync=off"}, map[string]string{"sync": "false"}},
		{[]string{"--no-incremental"}, map[string]string{"no_incremental": "true"}},
		{[]string{"--no-incremental", "False", "--noincremental"}, map[string]string{"no_incremental": "false", "incremental": "false"}},
		{[]string{"--no-incremental=anything"}, map[string]string{"no_incremental": "true"}},
		{[]string{"-i", "5", "--no-api"}, map[string]string{"interval": "5", "no_api": "true"}},
		{[]string{"--scheduler-interval", "5", "--nono-api"}, map[string]string{"interval": "5", "no_api": "false"}},
		{[]string{"--interval_secs=7"}, map[string]string{"interval": "7"}},
		{[]string{"-h"}, map[string]string{"help": "true"}},
	} {
		a, err := s.ParseArgs(c.args)
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		got := map[string]string{}
		for _, st := range a.Settings {
			got[st.Opt.Name] = st.Value
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v, want %v", c.args, got, c.want)
		}
	}
}

func TestParseArgsPositionalAndErrors(t *testing.T) {
	s := argsSchema()
	a, err := s.ParseArgs([]string{"start", "--config-file", "a", "--config-file=b", "-", "--", "--path"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Positional, []string{"start", "-", "--path"}) || !reflect.DeepEqual(a.All("", "config_file"), []string{"a", "b"}) {
		t.Errorf("positional %q, config files %q", a.Positional, a.All("", "config_file"))
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--blabla", "--x=1"}, "unrecognized arguments: --blabla --x=1"},
		{[]string{"--path"}, "--path: expected one argument"},
		{[]string{"--sync=maybe"}, `--sync: "maybe" is not a boolean`},
		{[]string{"--sync=none"}, `"none" is not a boolean`},
	} {
		if _, err := s.ParseArgs(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.args, err, c.want)
		}
	}
}

// The command line, files and defaults end in the same Values; the
// command line wins, a repeated MultiString keeps every value, and
// options this program ignores or cannot do are reported.
func TestApplyArgsOverFile(t *testing.T) {
	s := argsSchema()
	f, err := ParseINI(strings.NewReader("[DEFAULT]\npath = /file\nengine = fromalias\n[scheduler]\ninterval = 9\n"), "x.conf")
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Bind(f)
	if err != nil {
		t.Fatal(err)
	}
	if v.String("", "engine_name") != "fromalias" || v.Source("", "path") != "file" || v.IsSet("", "config_file") {
		t.Errorf("engine_name %q, path source %q", v.String("", "engine_name"), v.Source("", "path"))
	}
	a, err := s.ParseArgs([]string{"-F", "/cli", "--lvm-snapsize", "2G", "--snapshot", "x", "-i", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Apply(a, "cli"); err != nil {
		t.Fatal(err)
	}
	if v.String("", "path") != "/cli" || v.Source("", "path") != "cli" || v.Int("scheduler", "interval") != 3 {
		t.Errorf("path %q (%s), interval %d", v.String("", "path"), v.Source("", "path"), v.Int("scheduler", "interval"))
	}
	if ne := v.NoEffect(s); len(ne) != 1 || ne[0].Name != "lvm_snapsize" {
		t.Errorf("no effect: %+v", ne)
	}
	if err := v.Unsupported(s); err == nil || err.Error() != "--snapshot: no snapshots" {
		t.Errorf("unsupported: %v", err)
	}
	a, _ = s.ParseArgs([]string{"-i", "soon"})
	if err := v.Apply(a, "cli"); err == nil || !strings.Contains(err.Error(), `-i: "soon" is not an integer`) {
		t.Errorf("bad integer: %v", err)
	}
}

func TestParseBoolSpellings(t *testing.T) {
	for _, s := range []string{"true", "TRUE", "Yes", "on", "1", " true "} {
		if b, err := ParseBool(s); err != nil || !b {
			t.Errorf("%q: %v %v", s, b, err)
		}
	}
	for _, s := range []string{"false", "False", "NO", "off", "0"} {
		if b, err := ParseBool(s); err != nil || b {
			t.Errorf("%q: %v %v", s, b, err)
		}
	}
	// As oslo.config: None is not a boolean (job files map it to "unset"
	// before typing it), nor is an empty value.
	for _, s := range []string{"none", "None", "", "y", "t", "2"} {
		if _, err := ParseBool(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestWriteHelpLayout(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHelp(&b, Help{Usage: "prog [options] ACTION", Description: "Does things.", Epilog: "Exit status: 0"}, argsSchema()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"usage: prog [options] ACTION\n\nDoes things.\n",
		"\nOptions:\n  -F, --path PATH\n        Path.\n",
		"  --engine-name, --engine ENGINE_NAME\n",
		"\n[scheduler] options:\n  -i, --interval, --scheduler-interval, --interval-secs INTERVAL\n        [scheduler] interval: Seconds. Default: 60.\n",
		"Accepted but has no effect here: no snapshots yet.",
		"Not supported here (setting it is an error): no snapshots.",
		"\nProgram:\n  -h, --help\n",
		"\nExit status: 0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

// The job file reader yields settings like the command line's, with
// upstream's value rules.
func TestReadJobSettings(t *testing.T) {
	f, err := ParseJobFile(strings.NewReader("[job]\nPath = None\nsync = None\nno-incremental = yes\nengine = tar\nincremental =\nnosuch = 1\nconfig_file = x\n[storage:a]\nstorage = local\ninsecure = false\n"), "job.ini")
	if err != nil {
		t.Fatal(err)
	}
	j, err := argsSchema().ReadJob(f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, st := range j.Settings {
		if st.Unset {
			got[st.Opt.Name] = "<unset>"
		} else {
			got[st.Opt.Name] = st.Value
		}
	}
	want := map[string]string{"path": "<unset>", "sync": "false", "no_incremental": "yes", "engine_name": "tar"}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(j.Unknown, []string{"config_file", "nosuch"}) {
		t.Errorf("settings %v unknown %v", got, j.Unknown)
	}
	if len(j.Storages) != 1 || j.Storages[0].Section != "storage:a" || j.Storages[0].Values["insecure"] != "False" {
		t.Errorf("storages %+v", j.Storages)
	}
	v, err := argsSchema().Bind(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ApplySettings(j.Settings, "config"); err != nil {
		t.Fatal(err)
	}
	if v.String("", "path") != "" || !v.IsSet("", "path") || v.Bool("", "sync") || !v.Bool("", "no_incremental") {
		t.Errorf("path %q sync %v no_incremental %v", v.String("", "path"), v.Bool("", "sync"), v.Bool("", "no_incremental"))
	}
}
