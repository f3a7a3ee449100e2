package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"freezer.dev/freezer/freezer_api/auth"
)

// policyBaseRules are the rules other rules refer to, in the order the
// sample lists them (upstream's), with what each means.
func policyBaseRules() []policyDoc {
	return []policyDoc{
		{"context_is_admin", "The caller is a cloud administrator."},
		{"project_member", "The caller is a member of the project in the URL."},
		{"project_reader", "The caller is a reader of the project in the URL."},
		{"admin_or_owner", "A cloud administrator, or a member of the project in the URL."},
		{"admin_or_service", "A cloud administrator or a service user (such as a central scheduler); both may act on any project."},
		{"admin_or_owner_or_service", "A cloud administrator, a service user, or a member of the project in the URL."},
		{"admin_or_reader_or_service", "Anyone allowed by admin_or_owner_or_service, or a reader of the project in the URL."},
	}
}

type policyDoc struct{ Name, Help string }

// policyOperation describes an operation rule from its name,
// "<resource>:<verb>" or "<resource>:<sub>:<verb>", with the request it
// guards.
func policyOperation(name string) (string, error) {
	resource, verb, ok := strings.Cut(name, ":")
	if !ok {
		return "", fmt.Errorf("policy rule %q is neither a base rule nor <resource>:<operation>", name)
	}
	path := "/v2/{project_id}/" + resource
	item := path + "/{id}"
	a := article(singular(resource))
	if name == "jobs:create" {
		// Upstream guards POST .../jobs/{id} (create or replace) with it too.
		return "POST " + path + " and POST " + item + ": create or replace a job.", nil
	}
	switch verb {
	case "create":
		return "POST " + path + ": create " + a + ".", nil
	case "get":
		return "GET " + item + ": show one " + singular(resource) + ".", nil
	case "get_all":
		return "GET " + path + ": list " + resource + ".", nil
	case "update":
		return "PATCH " + item + ": update " + a + ".", nil
	case "replace":
		return "POST " + item + ": create or replace " + a + " with this id.", nil
	case "delete":
		return "DELETE " + item + ": delete " + a + ".", nil
	case "create_central":
		return "POST " + path + " with is_central true: register a central scheduler's client.", nil
	case "get_all_projects":
		return "GET " + path + " and " + item + ": see the " + resource + " of every project, not only the URL's.", nil
	case "event:create":
		return "POST " + item + "/event: start, stop or abort a job.", nil
	case "action:create":
		return "POST " + item + "/action: start or end a job's part in a session.", nil
	case "job:add":
		return "PUT " + item + "/jobs/{job_id}: add a job to a session.", nil
	case "job:remove":
		return "DELETE " + item + "/jobs/{job_id}: remove a job from a session.", nil
	}
	return "", fmt.Errorf("policy rule %q: no description for operation %q (add one in tools/gensamples/policy.go)", name, verb)
}

func singular(resource string) string { return strings.TrimSuffix(resource, "s") }

// article puts "a" or "an" before a noun.
func article(noun string) string {
	if strings.ContainsAny(noun[:1], "aeiou") {
		return "an " + noun
	}
	return "a " + noun
}

// renderPolicy writes the policy sample in oslo.policy's sample format:
// every rule commented out with its default, so that the file changes
// nothing until a rule is uncommented and edited.
func renderPolicy() ([]byte, error) {
	rules := auth.DefaultRules()
	var b bytes.Buffer
	b.WriteString("# Freezer API policy. Every rule is shown with its default, commented out;\n")
	b.WriteString("# copy a rule to /etc/freezer/policy.yaml ([oslo_policy] policy_file),\n")
	b.WriteString("# uncomment and change it. Rules left out keep their defaults.\n")
	seen := map[string]bool{}
	for _, d := range policyBaseRules() {
		check, ok := rules[d.Name]
		if !ok {
			return nil, fmt.Errorf("base policy rule %q is documented but not in the code", d.Name)
		}
		writeRule(&b, d.Name, d.Help, check)
		seen[d.Name] = true
	}
	ops := make([]string, 0, len(rules))
	for name := range rules {
		if !seen[name] {
			ops = append(ops, name)
		}
	}
	sort.Strings(ops)
	for _, name := range ops {
		help, err := policyOperation(name)
		if err != nil {
			return nil, err
		}
		writeRule(&b, name, help, rules[name])
	}
	return b.Bytes(), nil
}

func writeRule(b *bytes.Buffer, name, help, check string) {
	fmt.Fprintf(b, "\n# %s\n#%q: %q\n", help, name, check)
}
