package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultPolicy(t *testing.T) {
	p, err := NewPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	tgt := map[string]string{"project_id": "p1"}
	for _, tc := range []struct {
		rule  string
		c     Creds
		allow bool
	}{
		{"jobs:create", Creds{ProjectID: "p1", Roles: []string{"member"}}, true},
		{"jobs:create", Creds{ProjectID: "p2", Roles: []string{"member"}}, false},
		{"jobs:create", Creds{ProjectID: "p1", Roles: []string{"reader"}}, false},
		{"jobs:get", Creds{ProjectID: "p1", Roles: []string{"reader"}}, true},
		{"jobs:get", Creds{ProjectID: "p2", Roles: []string{"reader"}}, false},
		{"jobs:get", Creds{ProjectID: "p1"}, false},
		{"jobs:create", Creds{ProjectID: "p2", Roles: []string{"admin"}}, true},
		{"backups:create", Creds{ProjectID: "p2", Roles: []string{"service"}}, true},
		{"jobs:create", Creds{ProjectID: "p2", Roles: []string{"service"}}, false},
		{"clients:create_central", Creds{ProjectID: "p1", Roles: []string{"member"}}, false},
		{"clients:create_central", Creds{ProjectID: "p1", Roles: []string{"service"}}, true},
		{"jobs:get_all_projects", Creds{ProjectID: "p1", Roles: []string{"member"}}, false},
		{"no:such:rule", Creds{ProjectID: "p1", Roles: []string{"admin"}}, false},
	} {
		if got := p.Enforce(tc.rule, tc.c, tgt); got != tc.allow {
			t.Errorf("%s %+v = %v, want %v", tc.rule, tc.c, got, tc.allow)
		}
	}
}

func TestPolicyFileOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(path, []byte(`"jobs:get": "(role:auditor or role:member) and not role:banned"
"jobs:delete": "!"
"jobs:create": "@"
`), 0o600)
	p, err := LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	tgt := map[string]string{"project_id": "p1"}
	if !p.Enforce("jobs:get", Creds{Roles: []string{"auditor"}}, tgt) || p.Enforce("jobs:get", Creds{Roles: []string{"auditor", "banned"}}, tgt) {
		t.Error("override of jobs:get not applied")
	}
	if p.Enforce("jobs:delete", Creds{Roles: []string{"admin"}}, tgt) || !p.Enforce("jobs:create", Creds{}, tgt) {
		t.Error("! / @ not honoured")
	}
	if !p.Enforce("jobs:update", Creds{ProjectID: "p1", Roles: []string{"member"}}, tgt) {
		t.Error("defaults lost for rules the file does not name")
	}
}

func TestWriteSampleParsesBack(t *testing.T) {
	var b strings.Builder
	if err := WriteSample(&b); err != nil {
		t.Fatal(err)
	}
	// Uncommented, the sample is a valid policy file equal to the defaults.
	path := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(path, []byte(strings.ReplaceAll(b.String(), "\n#\"", "\n\"")), 0o600)
	p, err := LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Enforce("jobs:get", Creds{ProjectID: "p1", Roles: []string{"reader"}}, map[string]string{"project_id": "p1"}) {
		t.Fatal("sample changed a default")
	}
	if !strings.Contains(b.String(), `#"jobs:get_all_projects": "rule:admin_or_service"`) {
		t.Fatalf("sample:\n%s", b.String())
	}
}

func TestPolicyDecidesAsOsloPolicy(t *testing.T) {
	for _, c := range policyCases {
		p := newPolicy(map[string]any{"r": c.Rule, "helper": "role:helper"})
		if got := p.Enforce("r", c.creds(), c.target()); got != c.Want {
			t.Errorf("%q roles %v project %q target %v: %v, oslo.policy says %v", c.Rule, c.Roles, c.Project, c.target(), got, c.Want)
		}
	}
}

func TestPolicyFileWithBadRulesLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(path, []byte(`"jobs:get": "role:admin and (role:x"
"jobs:create": "foo or role:member"
"jobs:delete": 5
"backups:get": [["role:auditor"], ["role:member", "project_id:%(project_id)s"]]
`), 0o600)
	p, err := LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	tgt := map[string]string{"project_id": "p1"}
	admin := Creds{ProjectID: "p1", Roles: []string{"admin", "x", "member"}}
	if p.Enforce("jobs:get", admin, tgt) || p.Enforce("jobs:delete", admin, tgt) {
		t.Error("a rule oslo.policy cannot parse must deny")
	}
	if !p.Enforce("jobs:create", Creds{ProjectID: "p1", Roles: []string{"member"}}, tgt) {
		t.Error("a check without a colon fails alone, not the rule")
	}
	if !p.Enforce("backups:get", Creds{Roles: []string{"auditor"}}, tgt) || p.Enforce("backups:get", Creds{ProjectID: "p2", Roles: []string{"member"}}, tgt) {
		t.Error("list rule")
	}
	if len(p.Warnings) != 2 || !strings.Contains(p.Warnings[0], `policy rule "jobs:delete"`) || !strings.Contains(p.Warnings[1], `policy rule "jobs:get": missing )`) {
		t.Errorf("warnings %q", p.Warnings)
	}
}
