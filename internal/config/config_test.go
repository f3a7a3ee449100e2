package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const apiConf = `# an operator's file, as upstream deployment tools write it
[DEFAULT]
bind_host = 0.0.0.0
bind_port=9090
debug: True
enabled_apis = v2, v1

[database]
connection = "mysql+pymysql://freezer:pw@db/freezer?charset=utf8"

[keystone_authtoken]
auth_url = http://ks:5000/v3
memcached_servers = a:11211
    b:11211
`

func schema() Schema {
	return Schema{
		{Name: "bind_host", Default: "0.0.0.0", Help: "Address to bind."},
		{Name: "bind_port", Type: Int, Default: "9090", Help: "Port to bind."},
		{Name: "debug", Type: Bool, Default: "false", Help: "Debug logging."},
		{Name: "enabled_apis", Type: List, Default: "v2", Help: "APIs to serve."},
		{Group: "database", Name: "connection", Secret: true, Help: "SQLAlchemy URL."},
		{Group: "keystone_authtoken", Name: "auth_url", Help: "Keystone URL."},
		{Group: "keystone_authtoken", Name: "memcached_servers", Help: "Servers."},
		{Group: "scheduler", Name: "interval", Type: Int, Default: "60", Help: "Poll interval.",
			Deprecated: []Name{{Group: "", Name: "interval"}}},
		{Group: "storage", Name: "backend", Default: "sqlalchemy", Choices: []string{"sqlalchemy", "elasticsearch"}, Help: "Backend."},
		{Group: "x", Name: "tag", Type: MultiString, Help: "Repeatable."},
	}
}

func TestBindReadsUpstreamStyleFile(t *testing.T) {
	f, err := ParseINI(strings.NewReader(apiConf), "api.conf")
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema().Bind(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Int("", "bind_port"); got != 9090 {
		t.Errorf("bind_port = %d", got)
	}
	if !v.Bool("DEFAULT", "debug") {
		t.Error("debug: True not read (colon separator)")
	}
	if got := v.List("", "enabled_apis"); !slices.Equal(got, []string{"v2", "v1"}) {
		t.Errorf("enabled_apis = %q", got)
	}
	if got := v.String("database", "connection"); got != "mysql+pymysql://freezer:pw@db/freezer?charset=utf8" {
		t.Errorf("quoted value not unquoted: %q", got)
	}
	if got := v.String("keystone_authtoken", "memcached_servers"); got != "a:11211\nb:11211" {
		t.Errorf("continuation line: %q", got)
	}
	if got := v.Int("scheduler", "interval"); got != 60 {
		t.Errorf("default not applied: %d", got)
	}
	if v.IsSet("scheduler", "interval") || !v.IsSet("", "bind_port") {
		t.Error("IsSet wrong")
	}
}

func TestDeprecatedNameAndPrecedence(t *testing.T) {
	f, err := ParseINI(strings.NewReader("[DEFAULT]\ninterval = 5\n"), "flat.conf")
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema().Bind(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Int("scheduler", "interval"); got != 5 {
		t.Fatalf("13.0 flat spelling not read: %d", got)
	}
	// The grouped spelling wins when both are present.
	f2, _ := ParseINI(strings.NewReader("[DEFAULT]\ninterval = 5\n[scheduler]\ninterval = 7\n"), "both.conf")
	v2, err := schema().Bind(f2)
	if err != nil {
		t.Fatal(err)
	}
	if got := v2.Int("scheduler", "interval"); got != 7 {
		t.Fatalf("grouped spelling should win: %d", got)
	}
	// An override (flag) beats the file, and is validated.
	if err := v2.Set("scheduler", "interval", "9"); err != nil {
		t.Fatal(err)
	}
	if got := v2.Int("scheduler", "interval"); got != 9 {
		t.Fatalf("override: %d", got)
	}
	if err := v2.Set("scheduler", "interval", "soon"); err == nil {
		t.Fatal("non-integer override accepted")
	}
}

func TestBindRejectsBadValues(t *testing.T) {
	for _, body := range []string{
		"[DEFAULT]\nbind_port = ninety\n",
		"[DEFAULT]\ndebug = maybe\n",
		"[storage]\nbackend = mongo\n",
	} {
		f, err := ParseINI(strings.NewReader(body), "bad.conf")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := schema().Bind(f); err == nil {
			t.Errorf("accepted %q", body)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, body := range []string{"key = before section\n", "[unclosed\n", "[DEFAULT]\njust words\n", "[]\n"} {
		if _, err := ParseINI(strings.NewReader(body), "bad.conf"); err == nil {
			t.Errorf("accepted %q", body)
		}
	}
}

func TestMultiStringAndLaterFilesWin(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.conf")
	os.WriteFile(a, []byte("[x]\ntag = 1\ntag = 2\n[DEFAULT]\nbind_port = 1\n"), 0o600)
	d := filepath.Join(dir, "conf.d")
	os.Mkdir(d, 0o700)
	os.WriteFile(filepath.Join(d, "20-b.conf"), []byte("[DEFAULT]\nbind_port = 3\n"), 0o600)
	os.WriteFile(filepath.Join(d, "10-a.conf"), []byte("[DEFAULT]\nbind_port = 2\n"), 0o600)
	os.WriteFile(filepath.Join(d, "ignored.txt"), []byte("[DEFAULT]\nbind_port = 4\n"), 0o600)
	f, err := LoadFiles([]string{a}, []string{d})
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema().Bind(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Int("", "bind_port"); got != 3 {
		t.Errorf("bind_port = %d, want the last --config-dir file's 3", got)
	}
	if got := v.List("x", "tag"); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("multi values = %q", got)
	}
	if _, err := LoadFiles([]string{filepath.Join(dir, "missing.conf")}, nil); err == nil {
		t.Error("missing --config-file accepted")
	}
}

func TestWriteSampleLoadsBackToDefaults(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSample(&buf, schema()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"[DEFAULT]\n", "#bind_port = 9090\n", "# (integer value)", "# Possible values: sqlalchemy, elasticsearch", "# Deprecated name: [DEFAULT] interval"} {
		if !strings.Contains(out, want) {
			t.Errorf("sample lacks %q", want)
		}
	}
	if !strings.HasPrefix(out, "[DEFAULT]") {
		t.Error("DEFAULT is not the first section")
	}
	// The sample is all comments: loading it changes nothing.
	f, err := ParseINI(strings.NewReader(out), "sample")
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema().Bind(f)
	if err != nil {
		t.Fatal(err)
	}
	if v.IsSet("", "bind_port") {
		t.Error("a commented sample set an option")
	}
}

// parseConf holds the parser's corner cases; the expected values were read
// with python3-oslo.config (TestParsingMatchesOsloConfig in make
// integration compares them again).
const parseConf = `[DEFAULT]
a = value # not a comment
b = "quoted value"
c = 'single'
d =
e = first
e = second
f = line1
  line2
[g]
h=x=y
i : colon
[ g ]
j = spaced
[G]
k = upper
[default]
l = lower-case default is a group of its own
[Keystone_AuthToken]
m = mixed case
`

func parseSchema() Schema {
	var s Schema
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "l"} {
		s = append(s, Opt{Name: n})
	}
	for _, n := range []string{"h", "i", "j", "k"} {
		s = append(s, Opt{Group: "g", Name: n})
	}
	return append(s, Opt{Group: "keystone_authtoken", Name: "m"})
}

var parseCases = [][3]string{
	{"DEFAULT", "a", "value # not a comment"},
	{"DEFAULT", "b", "quoted value"},
	{"DEFAULT", "c", "single"},
	{"DEFAULT", "d", ""},
	{"DEFAULT", "e", "second"},
	{"DEFAULT", "f", "line1\nline2"},
	{"DEFAULT", "l", ""},
	{"g", "h", "x=y"},
	{"g", "i", "colon"},
	{"g", "j", ""},
	{"g", "k", "upper"},
	{"keystone_authtoken", "m", "mixed case"},
}

func TestParsingCornerCases(t *testing.T) {
	v, err := bindString(t, parseConf, parseSchema())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range parseCases {
		if got := v.String(c[0], c[1]); got != c[2] {
			t.Errorf("[%s] %s = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
