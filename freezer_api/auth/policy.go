package auth

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultRules are upstream freezer-api's policy rules and their
// secure-RBAC defaults (freezer_api/common/policies at HEAD).
func DefaultRules() map[string]string {
	r := map[string]string{
		"context_is_admin":           "role:admin",
		"admin_or_owner":             "rule:context_is_admin or rule:project_member",
		"admin_or_service":           "role:admin or role:service",
		"admin_or_owner_or_service":  "rule:admin_or_service or rule:project_member",
		"project_member":             "role:member and project_id:%(project_id)s",
		"project_reader":             "role:reader and project_id:%(project_id)s",
		"admin_or_reader_or_service": "rule:admin_or_owner_or_service or rule:project_reader",
	}
	for _, n := range []string{"backups:create", "backups:delete", "backups:update"} {
		r[n] = "rule:admin_or_owner_or_service"
	}
	for _, n := range []string{"backups:get", "backups:get_all", "clients:get", "clients:get_all",
		"actions:get", "actions:get_all", "jobs:get", "jobs:get_all", "sessions:get", "sessions:get_all"} {
		r[n] = "rule:admin_or_reader_or_service"
	}
	for _, n := range []string{"clients:create", "clients:delete",
		"actions:create", "actions:delete", "actions:update", "actions:replace",
		"jobs:create", "jobs:delete", "jobs:update", "jobs:event:create",
		"sessions:create", "sessions:delete", "sessions:update", "sessions:replace",
		"sessions:action:create", "sessions:job:add", "sessions:job:remove"} {
		r[n] = "rule:admin_or_owner"
	}
	r["clients:create_central"] = "rule:admin_or_service"
	r["jobs:get_all_projects"] = "rule:admin_or_service"
	return r
}

// Policy is a parsed rule set.
type Policy struct {
	rules map[string]node
}

// Creds are the caller's attributes a check string can test.
type Creds struct {
	ProjectID string
	UserID    string
	DomainID  string
	Roles     []string
}

// CredsOf returns the policy credentials of an identity.
func CredsOf(id *Identity) Creds {
	return Creds{ProjectID: id.ProjectID, UserID: id.UserID, DomainID: id.DomainID, Roles: id.Roles}
}

// NewPolicy parses the default rules overridden by the given ones.
func NewPolicy(overrides map[string]string) (*Policy, error) {
	all := DefaultRules()
	for k, v := range overrides {
		all[k] = v
	}
	p := &Policy{rules: map[string]node{}}
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		n, err := parseCheck(all[k])
		if err != nil {
			return nil, fmt.Errorf("parsing policy rule %q: %w", k, err)
		}
		p.rules[k] = n
	}
	return p, nil
}

// LoadPolicy reads a policy.yaml (or JSON) file of rule: check-string
// pairs over the defaults. A missing file yields the defaults.
func LoadPolicy(path string) (*Policy, error) {
	if path == "" {
		return NewPolicy(nil)
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return NewPolicy(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("reading policy file: %w", err)
	}
	var over map[string]string
	if err := yaml.Unmarshal(b, &over); err != nil {
		return nil, fmt.Errorf("parsing policy file %s: %w", path, err)
	}
	return NewPolicy(over)
}

// Enforce reports whether the rule allows the caller to act on the target
// (its keys are substituted for %(key)s). Unknown rules deny.
func (p *Policy) Enforce(rule string, c Creds, target map[string]string) bool {
	n, ok := p.rules[rule]
	if !ok {
		return false
	}
	return n.eval(&evalCtx{p: p, c: c, t: target})
}

type evalCtx struct {
	p     *Policy
	c     Creds
	t     map[string]string
	depth int
}

type node interface{ eval(*evalCtx) bool }

type constNode bool
type andNode []node
type orNode []node
type notNode struct{ n node }
type checkNode struct{ kind, match string }

func (c constNode) eval(*evalCtx) bool { return bool(c) }
func (a andNode) eval(e *evalCtx) bool {
	for _, n := range a {
		if !n.eval(e) {
			return false
		}
	}
	return true
}
func (o orNode) eval(e *evalCtx) bool {
	for _, n := range o {
		if n.eval(e) {
			return true
		}
	}
	return false
}
func (n notNode) eval(e *evalCtx) bool { return !n.n.eval(e) }

func (c checkNode) eval(e *evalCtx) bool {
	match := c.match
	if strings.HasPrefix(match, "%(") && strings.HasSuffix(match, ")s") {
		v, ok := e.t[match[2:len(match)-2]]
		if !ok {
			return false
		}
		match = v
	} else {
		match = strings.Trim(match, `'"`)
	}
	switch c.kind {
	case "rule":
		n, ok := e.p.rules[c.match]
		if !ok || e.depth > 32 {
			return false
		}
		e.depth++
		defer func() { e.depth-- }()
		return n.eval(e)
	case "role":
		m := strings.ToLower(match)
		for _, r := range e.c.Roles {
			if r == m {
				return true
			}
		}
		return false
	case "is_admin":
		admin := false
		for _, r := range e.c.Roles {
			admin = admin || r == "admin"
		}
		return strings.EqualFold(match, "true") == admin
	case "project_id", "tenant", "tenant_id":
		return match != "" && e.c.ProjectID == match
	case "user_id":
		return match != "" && e.c.UserID == match
	case "domain_id", "user_domain_id":
		return match != "" && e.c.DomainID == match
	}
	return false // http: checks and unknown attributes never pass
}

// parseCheck parses an oslo.policy check string: checks kind:match, "@"
// (always), "!" (never), "not", "and", "or" and parentheses. The empty
// string always passes.
func parseCheck(s string) (node, error) {
	toks := tokenize(s)
	if len(toks) == 0 {
		return constNode(true), nil
	}
	p := &parser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return n, nil
}

func tokenize(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		for strings.HasPrefix(w, "(") {
			out = append(out, "(")
			w = w[1:]
		}
		closing := 0
		for strings.HasSuffix(w, ")") && !strings.HasSuffix(w, ")s") {
			closing++
			w = w[:len(w)-1]
		}
		if w != "" {
			out = append(out, w)
		}
		for ; closing > 0; closing-- {
			out = append(out, ")")
		}
	}
	return out
}

type parser struct {
	toks []string
	pos  int
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) or() (node, error) {
	var parts orNode
	for {
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if strings.ToLower(p.peek()) != "or" {
			break
		}
		p.pos++
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return parts, nil
}

func (p *parser) and() (node, error) {
	var parts andNode
	for {
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if strings.ToLower(p.peek()) != "and" {
			break
		}
		p.pos++
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return parts, nil
}

func (p *parser) not() (node, error) {
	if strings.ToLower(p.peek()) == "not" {
		p.pos++
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.atom()
}

func (p *parser) atom() (node, error) {
	t := p.peek()
	switch t {
	case "":
		return nil, fmt.Errorf("unexpected end of rule")
	case "(":
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	case "@":
		p.pos++
		return constNode(true), nil
	case "!":
		p.pos++
		return constNode(false), nil
	}
	kind, match, ok := strings.Cut(t, ":")
	if !ok {
		return nil, fmt.Errorf("%q is not a check (kind:match)", t)
	}
	p.pos++
	return checkNode{kind: kind, match: match}, nil
}
