package auth

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
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
	// Warnings name the rules that could not be understood: as
	// oslo.policy does, each of them denies every request, and a file
	// that loads for the Python service loads here too. The caller logs
	// them.
	Warnings []string
}

// Creds are the caller's attributes a check string can test.
type Creds struct {
	ProjectID       string
	UserID          string
	DomainID        string // the user's domain
	ProjectDomainID string
	Roles           []string
}

// CredsOf returns the policy credentials of an identity.
func CredsOf(id *Identity) Creds {
	return Creds{ProjectID: id.ProjectID, UserID: id.UserID, DomainID: id.DomainID,
		ProjectDomainID: id.ProjectDomainID, Roles: id.Roles}
}

// NewPolicy parses the default rules overridden by the given ones.
func NewPolicy(overrides map[string]string) (*Policy, error) {
	over := make(map[string]any, len(overrides))
	for k, v := range overrides {
		over[k] = v
	}
	return newPolicy(over), nil
}

// newPolicy parses the default rules overridden by the given ones, each a
// check string or, in the older JSON syntax, a list of lists of checks
// (any list passes whose checks all pass).
func newPolicy(overrides map[string]any) *Policy {
	all := map[string]any{}
	for k, v := range DefaultRules() {
		all[k] = v
	}
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
		n, err := parseRule(all[k])
		if err != nil {
			p.Warnings = append(p.Warnings, fmt.Sprintf("policy rule %q: %v; the rule denies every request, as oslo.policy makes it", k, err))
			n = constNode(false)
		}
		p.rules[k] = n
	}
	return p
}

// parseRule parses a check string, or a list rule of the older syntax.
func parseRule(v any) (node, error) {
	switch r := v.(type) {
	case string:
		return parseCheck(r)
	case nil:
		return constNode(true), nil // an empty rule, as ""
	case []any:
		if len(r) == 0 {
			return constNode(true), nil
		}
		var or orNode
		for _, inner := range r {
			var checks []any
			switch x := inner.(type) {
			case string:
				checks = []any{x}
			case []any:
				checks = x
			default:
				return nil, fmt.Errorf("list rule item %v is neither a check nor a list of checks", inner)
			}
			if len(checks) == 0 {
				continue
			}
			var and andNode
			for _, c := range checks {
				cs, ok := c.(string)
				if !ok {
					return nil, fmt.Errorf("list rule item %v is not a check string", c)
				}
				n, err := parseAtom(cs)
				if err != nil {
					return nil, err
				}
				and = append(and, n)
			}
			or = append(or, and)
		}
		if len(or) == 0 {
			return constNode(false), nil
		}
		return or, nil
	}
	return nil, fmt.Errorf("%v is not a check string", v)
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
	var over map[string]any
	if err := yaml.Unmarshal(b, &over); err != nil {
		return nil, fmt.Errorf("parsing policy file %s: %w", path, err)
	}
	p := newPolicy(over)
	for i, w := range p.Warnings {
		p.Warnings[i] = path + ": " + w
	}
	return p, nil
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

// eval follows oslo.policy's checks: the match is %-formatted with the
// target (a key the target lacks fails the check); role compares without
// case; any other kind is a Python literal compared with the match as
// text, or the name of a credential compared with it as text.
func (c checkNode) eval(e *evalCtx) bool {
	if c.kind == "rule" {
		n, ok := e.p.rules[c.match]
		if !ok || e.depth > 32 {
			return false
		}
		e.depth++
		defer func() { e.depth-- }()
		return n.eval(e)
	}
	match, ok := pyFormat(c.match, e.t)
	if !ok {
		return false
	}
	switch c.kind {
	case "role":
		for _, r := range e.c.Roles {
			if strings.EqualFold(r, match) {
				return true
			}
		}
		return false
	case "http", "https":
		return false // a remote policy server is not supported: NewPolicy warned
	}
	if lit, ok := pyLiteral(c.kind); ok {
		return match == lit
	}
	switch c.kind {
	case "roles":
		for _, r := range e.c.Roles {
			if r == match {
				return true
			}
		}
		return false
	case "is_admin":
		// freezer-api's context: is_admin is whether the caller has the
		// admin role, printed as Python prints a bool.
		admin := false
		for _, r := range e.c.Roles {
			admin = admin || strings.EqualFold(r, "admin")
		}
		if admin {
			return match == "True"
		}
		return match == "False"
	}
	var v string
	switch c.kind {
	case "project_id", "tenant", "tenant_id":
		v = e.c.ProjectID
	case "user_id":
		v = e.c.UserID
	case "user_domain_id":
		v = e.c.DomainID
	case "project_domain_id":
		v = e.c.ProjectDomainID
	default:
		return false // a credential the caller does not have
	}
	if v == "" {
		v = "None" // str() of an unset credential
	}
	return match == v
}

// pyFormat is Python's "match % target" for the %(key)s references oslo
// policy rules use; false when a key is missing or the format is one
// Python would reject (oslo.policy then denies or fails the request).
func pyFormat(s string, target map[string]string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	if key, ok := strings.CutPrefix(s, "%("); ok && strings.HasSuffix(key, ")s") && !strings.ContainsAny(key[:len(key)-2], "%)") {
		v, ok := target[key[:len(key)-2]] // the usual whole "%(key)s", without a copy
		return v, ok
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			b.WriteString(s)
			return b.String(), true
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		switch {
		case strings.HasPrefix(s, "%"):
			b.WriteByte('%')
			s = s[1:]
		case strings.HasPrefix(s, "("):
			end := strings.IndexByte(s, ')')
			if end < 0 || !strings.HasPrefix(s[end:], ")s") {
				return "", false
			}
			v, ok := target[s[1:end]]
			if !ok {
				return "", false
			}
			b.WriteString(v)
			s = s[end+2:]
		default:
			return "", false
		}
	}
}

// pyLiteral returns str() of kind when it is a Python literal
// (ast.literal_eval): a quoted string, an integer, True, False or None.
func pyLiteral(kind string) (string, bool) {
	switch kind {
	case "True", "False", "None":
		return kind, true
	}
	if len(kind) >= 2 && (kind[0] == '\'' || kind[0] == '"') && kind[len(kind)-1] == kind[0] {
		inner := kind[1 : len(kind)-1]
		if !strings.ContainsAny(inner, "\\"+kind[:1]) {
			return inner, true
		}
	}
	if kind != "" && strings.IndexByte("+-0123456789", kind[0]) >= 0 {
		if n, err := strconv.ParseInt(kind, 10, 64); err == nil {
			return strconv.FormatInt(n, 10), true
		}
	}
	return "", false
}

// parseCheck parses an oslo.policy check string: checks kind:match, "@"
// (always), "!" (never), "not", "and", "or" and parentheses; "and" binds
// tighter than "or". The empty string always passes. As in oslo.policy, a
// check without a colon is one that never passes, while a string the
// grammar rejects (an unbalanced parenthesis, a dangling "or", a quoted
// token) is an error, which makes the whole rule deny.
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

// tokenize splits on blanks and takes leading "(" and trailing ")" off
// each word as tokens of their own, as oslo.policy's tokenizer does (a
// "%(key)s" never starts or ends a word).
func tokenize(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		for strings.HasPrefix(w, "(") {
			out = append(out, "(")
			w = w[1:]
		}
		closing := 0
		for strings.HasSuffix(w, ")") {
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
	switch strings.ToLower(t) {
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
	case ")", "and", "or":
		return nil, fmt.Errorf("unexpected %q", t)
	}
	if len(t) >= 2 && (t[0] == '"' || t[0] == '\'') && t[len(t)-1] == t[0] {
		return nil, fmt.Errorf("unexpected quoted %s", t)
	}
	p.pos++
	return parseAtom(t)
}

// parseAtom parses one check: "@", "!" or kind:match. A check without a
// colon never passes (oslo.policy logs it and does the same).
func parseAtom(t string) (node, error) {
	switch t {
	case "@":
		return constNode(true), nil
	case "!":
		return constNode(false), nil
	}
	kind, match, ok := strings.Cut(t, ":")
	if !ok {
		return constNode(false), nil
	}
	return checkNode{kind: kind, match: match}, nil
}

// WriteSample writes the default rules as a commented policy.yaml, the
// way oslopolicy-sample-generator does: uncomment a line to override it.
func WriteSample(w io.Writer) error {
	rules := DefaultRules()
	names := make([]string, 0, len(rules))
	for k := range rules {
		names = append(names, k)
	}
	// Base rules first, then operations, each alphabetically.
	sort.Slice(names, func(i, j int) bool {
		bi, bj := !strings.Contains(names[i], ":"), !strings.Contains(names[j], ":")
		if bi != bj {
			return bi
		}
		return names[i] < names[j]
	})
	if _, err := fmt.Fprintln(w, "# freezer-api policy defaults (secure RBAC). Uncomment a rule to change it."); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := fmt.Fprintf(w, "#%q: %q\n", n, rules[n]); err != nil {
			return err
		}
	}
	return nil
}
