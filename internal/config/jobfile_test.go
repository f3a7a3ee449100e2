package config

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The agent's job files are read with Python configparser's rules; these
// tests pin the reader and its %-interpolation to what configparser does.

// interpKind is how configparser's get() ends for a case: a value, or one
// of its interpolation errors.
type interpKind int

const (
	interpOK      interpKind = iota // a value
	interpSyntax                    // a "%" followed by neither "%" nor "("
	interpBadRef                    // "%(" not forming %(name)s
	interpMissing                   // %(name)s with no such key
	interpDepth                     // more than 10 values deep
)

func (k interpKind) String() string {
	return [...]string{"value", "syntax error", "bad reference", "missing key", "too deep"}[k]
}

// ourMessage is what our error says for each kind.
var ourMessage = map[interpKind]string{
	interpSyntax:  "must be followed by '%' or '('",
	interpBadRef:  "bad interpolation variable reference",
	interpMissing: "refers to no key of this section or [DEFAULT]",
	interpDepth:   "references nest more than 10 deep",
}

// pythonError is the exception configparser raises for each kind ("" for
// none).
var pythonError = map[interpKind]string{
	interpSyntax:  "InterpolationSyntaxError",
	interpBadRef:  "InterpolationSyntaxError",
	interpMissing: "InterpolationMissingOptionError",
	interpDepth:   "InterpolationDepthError",
}

// interpCases are what Python 3.11's configparser.ConfigParser().get(sec,
// key) returned for each file, checked with /usr/bin/python3 (Debian
// python3-freezer's interpreter; upstream's agent reads --config files that
// way). TestInterpolationTableMatchesPython checks them again.
var interpCases = []struct {
	name, ini, sec, key string
	want                string
	kind                interpKind
}{
	{"DEFAULT reference", "[DEFAULT]\nbase = /srv\n[job]\npath_to_backup = %(base)s/www\n", "job", "path_to_backup", "/srv/www", interpOK},
	{"%% is %", "[job]\nbackup_name = 100%%\n", "job", "backup_name", "100%", interpOK},
	{"%%%% is %%", "[a]\nk = %%%%\n", "a", "k", "%%", interpOK},
	{"escaped reference", "[a]\nk = %%(x)s\n", "a", "k", "%(x)s", interpOK},
	{"same section", "[a]\nx = 1\ny = %(x)s-%(x)s\n", "a", "y", "1-1", interpOK},
	{"reference is lower-cased", "[a]\nBase = /srv\ny = %(BASE)s/%(Base)s\n", "a", "y", "/srv//srv", interpOK},
	{"section wins over DEFAULT", "[DEFAULT]\nx = def\n[a]\nx = sec\ny = %(x)s\n", "a", "y", "sec", interpOK},
	{"DEFAULT when the section lacks it", "[DEFAULT]\nx = def\n[a]\nx = sec\n[b]\ny = %(x)s\n", "b", "y", "def", interpOK},
	{"inherited value expands in the section", "[DEFAULT]\nx = def\ny = %(x)s\n[a]\nx = sec\n", "a", "y", "sec", interpOK},
	{"inherited value refers to a section key", "[DEFAULT]\ny = %(only)s\n[a]\nonly = here\n", "a", "y", "here", interpOK},
	{"DEFAULT on its own", "[DEFAULT]\nx = 1\ny = %(x)s\n", "DEFAULT", "y", "1", interpOK},
	{"recursive", "[a]\na = %(b)s\nb = %(c)s+\nc = 100%%\n", "a", "a", "100%+", interpOK},
	{"referenced value without % is taken as is", "[a]\nk = %(m)s\nm = plain\n", "a", "k", "plain", interpOK},
	{"storage section", "[DEFAULT]\nroot = /backups\n[storage:one]\nstorage = local\ncontainer = %(root)s/one-%(storage)s\n", "storage:one", "container", "/backups/one-local", interpOK},
	{"expands to True", "[DEFAULT]\nt = True\n[a]\nk = %(t)s\n", "a", "k", "True", interpOK},
	{"expands to empty", "[a]\ne =\nk = [%(e)s]\n", "a", "k", "[]", interpOK},
	{"multi-line value", "[a]\nx = 1\nk = first %(x)s\n  second %%\n", "a", "k", "first 1\nsecond %", interpOK},
	{"dashes are not underscores", "[a]\nbackup-name = b\nk = %(backup-name)s\n", "a", "k", "b", interpOK},
	{"9 references, 10 values with %: the limit", chain(9), "a", "k0", "5%", interpOK},
	{"10 references, 11 values with %: too deep", chain(10), "a", "k0", "", interpDepth},
	{"10 references ending in a value without %", "[a]\nk0 = %(k1)s\nk1 = %(k2)s\nk2 = %(k3)s\nk3 = %(k4)s\nk4 = %(k5)s\nk5 = %(k6)s\nk6 = %(k7)s\nk7 = %(k8)s\nk8 = %(k9)s\nk9 = %(k10)s\nk10 = end\n", "a", "k0", "end", interpOK},
	{"self reference", "[a]\na = %(a)s\n", "a", "a", "", interpDepth},
	{"cycle", "[a]\na = %(b)s\nb = %(a)s\n", "a", "b", "", interpDepth},
	{"lone % at the end", "[a]\nk = 100%\n", "a", "k", "", interpSyntax},
	{"% and a letter", "[a]\nk = 50%off\n", "a", "k", "", interpSyntax},
	{"% and a space", "[a]\nk = a % b\n", "a", "k", "", interpSyntax},
	{"printf %s", "[a]\nk = %s\n", "a", "k", "", interpSyntax},
	{"lone % in a referenced value", "[a]\nk = <%(m)s>\nm = 5%\n", "a", "k", "", interpSyntax},
	{"%(x)d", "[a]\nx = 1\nk = %(x)d\n", "a", "k", "", interpBadRef},
	{"%(x) at the end", "[a]\nx = 1\nk = %(x)\n", "a", "k", "", interpBadRef},
	{"%(x unclosed", "[a]\nk = %(x\n", "a", "k", "", interpBadRef},
	{"%()s", "[a]\nk = %()s\n", "a", "k", "", interpBadRef},
	{"missing", "[a]\nk = %(nope)s/x\n", "a", "k", "", interpMissing},
	{"missing in a referenced value", "[a]\nk = %(m)s\nm = %(nope)s\n", "a", "k", "", interpMissing},
	{"name is not trimmed", "[a]\nx = 1\nk = %( x )s\n", "a", "k", "", interpMissing},
	{"lower-case [default] is a plain section", "[default]\nx = 1\n[job]\nz = %(x)s\n", "job", "z", "", interpMissing},
	{"DEFAULT does not see section keys", "[DEFAULT]\ny = %(only)s\n[a]\nonly = here\n", "DEFAULT", "y", "", interpMissing},
}

// chain is a file where k0 refers to k1, ... k(n-1) to kn, and kn = "5%%",
// so configparser expands n+1 values that hold a "%".
func chain(n int) string {
	var b strings.Builder
	b.WriteString("[a]\n")
	for i := 0; i < n; i++ {
		b.WriteString("k" + strconv.Itoa(i) + " = %(k" + strconv.Itoa(i+1) + ")s\n")
	}
	b.WriteString("k" + strconv.Itoa(n) + " = 5%%\n")
	return b.String()
}

func TestInterpolateLikeConfigparser(t *testing.T) {
	for _, c := range interpCases {
		kind, v := ourGet(t, c.ini, c.sec, c.key)
		if kind != c.kind || v != c.want {
			t.Errorf("%s: got %q (%s), want %q (%s)", c.name, v, kind, c.want, c.kind)
		}
	}
}

// TestInterpolationTableMatchesPython asks configparser itself about every
// case of interpCases, so the table cannot drift from what upstream reads.
func TestInterpolationTableMatchesPython(t *testing.T) {
	py := "/usr/bin/python3" // Debian's, the interpreter of python3-freezer
	if _, err := os.Stat(py); err != nil {
		var lerr error
		if py, lerr = exec.LookPath("python3"); lerr != nil {
			t.Skip("no python3 to compare with configparser")
		}
	}
	const script = `
import configparser, json, sys
out = []
for ini, sec, key in json.load(sys.stdin):
    cp = configparser.ConfigParser()
    cp.read_string(ini)
    try:
        out.append(["", cp.get(sec, key)])
    except Exception as e:
        out.append([type(e).__name__, ""])
json.dump(out, sys.stdout)
`
	var in [][3]string
	for _, c := range interpCases {
		in = append(in, [3]string{c.ini, c.sec, c.key})
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(string(stdin))
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", py, err)
	}
	var got [][2]string
	if err := json.Unmarshal(stdout, &got); err != nil || len(got) != len(interpCases) {
		t.Fatalf("python output %q: %v", stdout, err)
	}
	for i, c := range interpCases {
		if want := [2]string{pythonError[c.kind], c.want}; got[i] != want {
			t.Errorf("%s: configparser says %q, the table %q", c.name, got[i], want)
		}
		kind, v := ourGet(t, c.ini, c.sec, c.key)
		if ours := [2]string{pythonError[kind], v}; ours != got[i] {
			t.Errorf("%s: configparser says %q, we say %q", c.name, got[i], ours)
		}
	}
}

// ourGet is interpolate's answer for key of section sec: the value, or the
// kind of its error.
func ourGet(t *testing.T, ini, sec, key string) (interpKind, string) {
	t.Helper()
	secs, err := parseJobSections(strings.NewReader(ini), "job.ini")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.name != sec {
			continue
		}
		v, err := interpolate(s.vals[key], s.vals)
		if err == nil {
			return interpOK, v
		}
		for kind, msg := range ourMessage {
			if strings.Contains(err.Error(), msg) {
				return kind, ""
			}
		}
		t.Fatalf("[%s] %s: unexpected error %v", sec, key, err)
	}
	t.Fatalf("no section [%s]", sec)
	return interpOK, ""
}

func TestParseINIConfigparserRules(t *testing.T) {
	in := `# comment
; other comment
[DEFAULT]
Shared = 1

[default]
Path_To_Backup = /data
BACKUP-NAME: b1
empty =
multi = first
   second
inline = a # not a comment in configparser

[storage:one]
storage = local
container = /tmp/x
`
	secs, err := parseJobSections(strings.NewReader(in), "job.ini")
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 3 || secs[1].name != "default" || secs[2].name != "storage:one" {
		t.Fatalf("sections %+v", secs)
	}
	d := secs[1].vals
	want := map[string]string{"path_to_backup": "/data", "backup-name": "b1", "empty": "", "multi": "first\nsecond", "inline": "a # not a comment in configparser", "shared": "1"}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("values %q, want %q", d, want)
	}
	if secs[2].vals["shared"] != "1" {
		t.Fatalf("[DEFAULT] not inherited: %v", secs[2].vals)
	}
	for _, bad := range []string{
		"key = before section\n",
		"[a]\nk = 1\nk = 2\n",
		"[a]\n[a]\n",
		"[a]\nno value line\n",
		"[a\n",
	} {
		if _, err := parseJobSections(strings.NewReader(bad), "bad.ini"); err == nil {
			t.Errorf("accepted %q", bad)
		} else if !strings.Contains(err.Error(), "bad.ini:") {
			t.Errorf("error %v does not name the file and line", err)
		}
	}
}

// Job files fold key case as configparser does, and keep section names as
// written ([storage:Remote]); this replaces the oslo reader's LowerKeys
// option, which folded section names too.
func TestJobFileFoldsKeysNotSections(t *testing.T) {
	f, err := ParseJobFile(strings.NewReader("[Default]\nPath_To_Backup = /data\n[storage:Remote]\nStorage = ssh\n"), "job.ini")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Get("Default", "path_to_backup"); err != nil || v != "/data" {
		t.Fatalf("lower-cased key: %q %v", v, err)
	}
	j, err := Schema{{Name: "path_to_backup"}, {Name: "storage"}}.ReadJob(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Settings) != 1 || j.Settings[0].Opt.Name != "path_to_backup" || j.Settings[0].Value != "/data" {
		t.Errorf("settings %+v", j.Settings)
	}
	if len(j.Storages) != 1 || j.Storages[0].Section != "storage:Remote" || j.Storages[0].Values["storage"] != "ssh" {
		t.Errorf("storages %+v", j.Storages)
	}
}
