//go:build integration

package auth

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// osloPolicyScript decides each case with python3-oslo.policy (Debian's,
// installed by tools/testenv/install.sh) and the credentials freezer-api's
// context gives it: roles, project and user ids, domains, and is_admin
// (the admin role).
const osloPolicyScript = `
import json, logging, sys
logging.disable(logging.CRITICAL)
from oslo_config import cfg
from oslo_policy import policy
conf = cfg.ConfigOpts()
conf([])
out = []
for c in json.load(sys.stdin):
    e = policy.Enforcer(conf, use_conf=False)
    e.set_rules(policy.Rules.from_dict({"r": c["rule"], "helper": "role:helper"}), overwrite=True, use_conf=False)
    roles = c["roles"] or []
    creds = {"roles": roles, "project_id": c["project"] or None, "user_id": "u1",
             "user_domain_id": "default", "project_domain_id": "default",
             "is_admin": "admin" in [r.lower() for r in roles]}
    target = c["target"] or {"project_id": "p1"}
    out.append(bool(e.enforce("r", target, creds)))
json.dump(out, sys.stdout)
`

func TestPolicyCasesMatchOsloPolicy(t *testing.T) {
	in, err := json.Marshal(policyCases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", osloPolicyScript)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-oslo.policy: %v (run tools/testenv/install.sh)", err)
	}
	var oslo []bool
	if err := json.Unmarshal(b, &oslo); err != nil || len(oslo) != len(policyCases) {
		t.Fatalf("oslo output %q: %v", b, err)
	}
	for i, c := range policyCases {
		if oslo[i] != c.Want {
			t.Errorf("%q roles %v project %q: oslo.policy says %v, the table says %v", c.Rule, c.Roles, c.Project, oslo[i], c.Want)
		}
	}
}
