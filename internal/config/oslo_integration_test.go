//go:build integration

package config

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// osloValues loads conf with python3-oslo.config (Debian's, installed by
// tools/testenv/install.sh), the options of s registered, and returns
// str() of each option's value by "group.name", or "ERROR: ..." where
// reading it raised.
func osloValues(t *testing.T, s Schema, conf string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "test.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var py strings.Builder
	py.WriteString("import json, sys\nfrom oslo_config import cfg\nc = cfg.ConfigOpts()\nnames = []\n")
	for _, o := range s {
		kind := map[Type]string{String: "StrOpt", Int: "IntOpt", Bool: "BoolOpt", List: "ListOpt", Float: "FloatOpt", MultiString: "MultiStrOpt"}[o.Type]
		def := "None"
		if o.Default != "" {
			def = fmt.Sprintf("%q", o.Default)
		}
		group := "None"
		if o.Group != "" {
			group = fmt.Sprintf("%q", o.Group)
		}
		fmt.Fprintf(&py, "c.register_opt(cfg.%s(%q, default=%s), group=%s)\nnames.append((%s, %q))\n", kind, o.Name, def, group, group, o.Name)
	}
	fmt.Fprintf(&py, `c(['--config-file', %q])
out = {}
for g, n in names:
    try:
        v = getattr(getattr(c, g), n) if g else getattr(c, n)
        out[(g or 'DEFAULT') + '.' + n] = '' if v is None else str(v)
    except BaseException as e:
        out[(g or 'DEFAULT') + '.' + n] = 'ERROR: %%s' %% type(e).__name__
json.dump(out, sys.stdout)
`, path)
	// Debian's interpreter: the one on PATH may be another without the
	// distribution's packages.
	cmd := exec.Command("/usr/bin/python3", "-c", py.String())
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-oslo.config: %v (run tools/testenv/install.sh)", err)
	}
	out := map[string]string{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("oslo output %q: %v", b, err)
	}
	return out
}

func TestSubstitutionMatchesOsloConfig(t *testing.T) {
	oslo := osloValues(t, substSchema(), substConf)
	v, err := bindString(t, substConf, substSchema())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range substCases {
		key := c[0] + "." + c[1]
		if got, want := v.String(c[0], c[1]), oslo[key]; got != want {
			t.Errorf("%s: ours %q, oslo.config %q", key, got, want)
		}
		if oslo[key] != c[2] {
			t.Errorf("%s: oslo.config says %q, the unit test expects %q", key, oslo[key], c[2])
		}
	}
}

func TestSubstitutionErrorsMatchOsloConfig(t *testing.T) {
	// Each file makes oslo.config raise when [g] name (or num) is read,
	// and makes Bind fail.
	for _, conf := range []string{
		"[g]\nname = $NAME\n",
		"[g]\nname = x$nosuch\n",
		"[g]\nname = $a.suffix\n",
		"[g]\nname = $g.nosuch\n",
		"[g]\nname = $ref1\nref1 = <$name>\n",
		"[g]\nnum = $name\nname = x\n",
	} {
		oslo := osloValues(t, substSchema(), conf)
		key := "g.name"
		if strings.Contains(conf, "num =") {
			key = "g.num"
		}
		if !strings.HasPrefix(oslo[key], "ERROR: ") {
			t.Errorf("%q: oslo.config read %s as %q, want an error", conf, key, oslo[key])
		}
		if _, err := bindString(t, conf, substSchema()); err == nil {
			t.Errorf("%q: Bind succeeded, oslo.config fails", conf)
		}
	}
}

func TestParsingMatchesOsloConfig(t *testing.T) {
	oslo := osloValues(t, parseSchema(), parseConf)
	v, err := bindString(t, parseConf, parseSchema())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range parseCases {
		key := c[0] + "." + c[1]
		if got, want := v.String(c[0], c[1]), oslo[key]; got != want {
			t.Errorf("%s: ours %q, oslo.config %q", key, got, want)
		}
		if oslo[key] != c[2] {
			t.Errorf("%s: oslo.config says %q, the unit test expects %q", key, oslo[key], c[2])
		}
	}
}
