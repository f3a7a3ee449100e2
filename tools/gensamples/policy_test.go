package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"freezer.dev/freezer/freezer_api/auth"
)

// uncomment turns a sample into the file an operator gets by uncommenting
// every setting: "#key = value" and `#"rule": "check"` lines lose their
// "#", help lines stay comments.
func uncomment(sample []byte) []byte {
	lines := strings.Split(string(sample), "\n")
	for i, l := range lines {
		body, ok := strings.CutPrefix(l, "#")
		if !ok {
			continue
		}
		if strings.HasPrefix(body, `"`) || optionLine(body) && strings.Contains(body, " = ") && !strings.HasPrefix(body, " ") {
			lines[i] = body
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// TestPolicySampleIsTheDefaults: uncommented, the committed sample is
// exactly the code's default rule set, so editing one rule of it changes
// only that rule.
func TestPolicySampleIsTheDefaults(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, "etc", "freezer", "policy.yaml.sample"))
	if err != nil {
		t.Fatal(err)
	}
	var asCommitted map[string]string
	if err := yaml.Unmarshal(committed, &asCommitted); err != nil {
		t.Fatalf("the committed sample is not YAML: %v", err)
	}
	if len(asCommitted) != 0 {
		t.Errorf("the committed sample sets %d rules; every rule must be commented out", len(asCommitted))
	}
	var rules map[string]string
	if err := yaml.Unmarshal(uncomment(committed), &rules); err != nil {
		t.Fatalf("the uncommented sample is not YAML: %v", err)
	}
	if want := auth.DefaultRules(); !reflect.DeepEqual(rules, want) {
		t.Errorf("uncommented sample = %v\nwant the defaults %v", rules, want)
	}
	// And the API's own loader accepts it.
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, uncomment(committed), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, err := auth.LoadPolicy(p)
	if err != nil {
		t.Fatalf("auth.LoadPolicy(uncommented sample): %v", err)
	}
	member := auth.Creds{ProjectID: "p1", UserID: "u1", Roles: []string{"member"}}
	if !pol.Enforce("jobs:create", member, map[string]string{"project_id": "p1"}) {
		t.Error("a member may not create a job in its project under the uncommented sample")
	}
	if pol.Enforce("jobs:create", member, map[string]string{"project_id": "p2"}) {
		t.Error("a member may create a job in another project under the uncommented sample")
	}
}
