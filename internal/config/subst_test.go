package config

import (
	"strings"
	"testing"
)

// substConf exercises oslo.config's substitution rules; substSchema
// registers its options. The expected values in TestSubstitution were read
// from python3-oslo.config with the same file and options
// (subst_integration_test.go runs that comparison in make integration).
const substConf = `[DEFAULT]
state_path = /var/lib/fz
log_dir = $state_path/log
pw1 = a$$b
pw2 = a\$b
pw3 = cost $5 and $ alone $
pw4 = ${state_path}x
port = 9090
dbg = yes
lst = a, b

[g]
name = gname
ref1 = $name-$state_path
a = $g.name/x
b = \$HOME and $$HOME and \\$x
d = ${name}.suffix
f = $9 $-a ${ bad} ${unclosed
ref3 = $port:$dbg:$lst
num = $port
`

func substSchema() Schema {
	s := Schema{
		{Name: "port", Type: Int},
		{Name: "dbg", Type: Bool},
		{Name: "lst", Type: List},
		{Group: "g", Name: "num", Type: Int},
		{Group: "g", Name: "withdef", Default: "$state_path/d"},
		{Group: "g", Name: "unset_ref", Default: "[$unset]"},
		{Name: "unset"},
	}
	for _, n := range []string{"state_path", "log_dir", "pw1", "pw2", "pw3", "pw4"} {
		s = append(s, Opt{Name: n})
	}
	for _, n := range []string{"name", "ref1", "a", "b", "d", "f", "ref3"} {
		s = append(s, Opt{Group: "g", Name: n})
	}
	return s
}

// substCases are (group, option, want) for substConf.
var substCases = [][3]string{
	{"DEFAULT", "log_dir", "/var/lib/fz/log"},
	{"DEFAULT", "pw1", "a$b"},
	{"DEFAULT", "pw2", "a$b"},
	{"DEFAULT", "pw3", "cost $5 and $ alone $"},
	{"DEFAULT", "pw4", "/var/lib/fzx"},
	{"g", "ref1", "gname-/var/lib/fz"},
	{"g", "a", "gname/x"},
	{"g", "b", `$HOME and $HOME and \$x`},
	{"g", "d", "gname.suffix"},
	{"g", "f", "$9 $-a ${ bad} ${unclosed"},
	{"g", "ref3", "9090:True:['a', 'b']"},
	{"g", "num", "9090"},
	{"g", "withdef", "/var/lib/fz/d"},
	{"g", "unset_ref", "[]"},
}

func bindString(t *testing.T, conf string, s Schema) (*Values, error) {
	t.Helper()
	f, err := ParseINI(strings.NewReader(conf), "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	return s.Bind(f)
}

func TestSubstitution(t *testing.T) {
	v, err := bindString(t, substConf, substSchema())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range substCases {
		if got := v.String(c[0], c[1]); got != c[2] {
			t.Errorf("[%s] %s = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	if got := v.Int("g", "num"); got != 9090 {
		t.Errorf("[g] num as an integer = %d, want 9090 (checked after substitution)", got)
	}
}

func TestSubstitutionErrors(t *testing.T) {
	for _, c := range []struct{ conf, want string }{
		{"[g]\nname = $NAME\n", "[g] name: $NAME: no such option NAME"},
		{"[g]\nname = x$nosuch\n", "[g] name: $nosuch: no such option nosuch in group [g] or [DEFAULT]"},
		{"[g]\nname = $a.suffix\n", "[g] name: $a.suffix: no such group [a]"},
		{"[g]\nname = $g.nosuch\n", "[g] name: $g.nosuch: no such option nosuch in group [g]"},
		{"[g]\nname = $ref1\nref1 = <$name>\n", "substitution loop: [g] name -> [g] ref1 -> [g] name"},
		{"[g]\nname = $name\n", "substitution loop: [g] name -> [g] name"},
		{"[g]\nnum = $name\nname = x\n", `[g] num: "x" is not an integer`},
	} {
		_, err := bindString(t, c.conf, substSchema())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.conf, err, c.want)
		}
	}
}

func TestSubstitutionOfOptionsTheSchemaDoesNotKnow(t *testing.T) {
	// A library option we do not reimplement still has its file value.
	// "$host_base.example" is option example of group host_base, which
	// does not exist: the greedy name is oslo's rule too.
	_, err := bindString(t, "[DEFAULT]\nhost_base = db1\n[g]\nname = $host_base.example\n", substSchema())
	if err == nil || !strings.Contains(err.Error(), "no such group [host_base]") {
		t.Errorf("error %v, want no such group [host_base]", err)
	}
	v, err := bindString(t, "[DEFAULT]\nhost_base = db1\n[g]\nname = ${host_base}.example:${g.extra}\nextra = 5\n", substSchema())
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String("g", "name"); got != "db1.example:5" {
		t.Errorf("name = %q", got)
	}
}

func TestOverridesAreLiteral(t *testing.T) {
	v, err := bindString(t, substConf, substSchema())
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Set("g", "name", "x$y$$"); err != nil {
		t.Fatal(err)
	}
	if got := v.String("g", "name"); got != "x$y$$" {
		t.Errorf("overridden name = %q, want it as given", got)
	}
	if got := v.String("g", "ref1"); got != "x$y$$-/var/lib/fz" {
		t.Errorf("ref1 = %q, want the override substituted as given", got)
	}
}

func TestSubstitutionThroughDeprecatedName(t *testing.T) {
	// [scheduler] interval read from its 13.0 spelling [DEFAULT] interval.
	s := append(schema(), Opt{Name: "base_interval"})
	v, err := bindString(t, "[DEFAULT]\nbase_interval = 30\ninterval = $base_interval\n", s)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Int("scheduler", "interval"); got != 30 {
		t.Errorf("interval = %d, want 30", got)
	}
	_, err = bindString(t, "[DEFAULT]\ninterval = $nosuch\n", s)
	if err == nil || !strings.Contains(err.Error(), "option [DEFAULT] interval: $nosuch") {
		t.Errorf("error %v, want it to name the spelling in the file", err)
	}
}

func TestMultiStringOverrideKeepsExpandedFileValues(t *testing.T) {
	s := append(schema(), Opt{Name: "base"})
	v, err := bindString(t, "[DEFAULT]\nbase = b\n[x]\ntag = $base/1\ntag = $$2\n", s)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Set("x", "tag", "$3"); err != nil {
		t.Fatal(err)
	}
	got := v.List("x", "tag")
	if strings.Join(got, ",") != "b/1,$2,$3" {
		t.Errorf("tags = %q", got)
	}
}

func TestINIExpandWithoutSchema(t *testing.T) {
	f, err := ParseINI(strings.NewReader("[DEFAULT]\nbase = /srv\npath = $base/www\nbad = $nosuch\npw = a$$b\n"), "agent.conf")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"path": "/srv/www", "pw": "a$b", "base": "/srv"} {
		if got, ok, err := f.Expand(DefaultSection, key); err != nil || !ok || got != want {
			t.Errorf("%s = %q, %v, %v; want %q", key, got, ok, err, want)
		}
	}
	if _, ok, err := f.Expand(DefaultSection, "bad"); !ok || err == nil || !strings.Contains(err.Error(), "option [DEFAULT] bad: $nosuch: no such option") {
		t.Errorf("bad: %v, %v", ok, err)
	}
	if _, ok, err := f.Expand(DefaultSection, "missing"); ok || err != nil {
		t.Errorf("missing: %v, %v", ok, err)
	}
}
