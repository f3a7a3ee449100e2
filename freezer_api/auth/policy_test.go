package auth

import (
	"os"
	"path/filepath"
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
	os.WriteFile(path, []byte(`"jobs:get": "role:admin and (role:x"`), 0o600)
	if _, err := LoadPolicy(path); err == nil {
		t.Error("unbalanced rule accepted")
	}
}
