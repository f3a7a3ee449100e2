package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// oslo.config substitutes other options' values into option values, so a
// file that works with the Python services may say
//
//	state_path = /var/lib/freezer
//	log_dir = $state_path/log
//
// and must escape a literal dollar as "$$" (or "\$"): a password "a$$b" in
// such a file is "a$b". The rules below are those of oslo.config's
// ConfigOpts._substitute, checked against python3-oslo.config:
//
//   - "\$" is read as "$$" first, and "$$" is one "$".
//   - "$name" and "${name}" take the value of option name, looked up in the
//     group of the option being read and then in [DEFAULT]; "$group.name"
//     (and "${group.name}") names the group. A name is a letter or "_"
//     followed by letters, digits, "_" and "." (either case), taken
//     greedily: "$a.b" is option b of group a.
//   - A "$" followed by anything else ("$5", "$ ", a final "$", "${ x}") is
//     kept as it is.
//   - The value substituted is the option's typed value as Python prints
//     it: an unset option is empty, a boolean True or False, a list
//     ['a', 'b'].
//   - A name that is no option is an error, and so is a loop.
//
// Values given on the command line or in the environment are used as
// given: oslo substitutes those too, so an OS_PASSWORD containing "$" broke
// the Python scheduler; nobody writes "$$" in a shell variable.

// substError is a substitution that cannot be done; Bind names the option.
type substError struct{ msg string }

func (e *substError) Error() string { return e.msg }

// isNameStart and isNameChar are string.Template's idpattern as oslo sets
// it, [_a-z][\._a-z0-9]*, matched ignoring case.
func isNameStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || c == '.' || '0' <= c && c <= '9' }

// substitute expands s; lookup returns the text for a name.
func substitute(s string, lookup func(name string) (string, error)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	s = strings.ReplaceAll(s, `\$`, "$$")
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		var name string
		switch {
		case s != "" && s[0] == '$':
			b.WriteByte('$')
			s = s[1:]
			continue
		case s != "" && isNameStart(s[0]):
			n := 1
			for n < len(s) && isNameChar(s[n]) {
				n++
			}
			name, s = s[:n], s[n:]
		case len(s) > 1 && s[0] == '{' && isNameStart(s[1]):
			n := 2
			for n < len(s) && isNameChar(s[n]) {
				n++
			}
			if n == len(s) || s[n] != '}' {
				b.WriteByte('$') // not a reference: kept
				continue
			}
			name, s = s[1:n], s[n+1:]
		default:
			b.WriteByte('$')
			continue
		}
		v, err := lookup(name)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
}

// resolver expands the values of one Values, following references.
type resolver struct {
	v     *Values
	stack []Name // options being expanded, to find loops
}

func (v *Values) expand(n Name, raw string) (string, error) {
	r := &resolver{v: v, stack: []Name{n}}
	return r.expand(n.Group, raw)
}

func (r *resolver) expand(group, raw string) (string, error) {
	return substitute(raw, func(name string) (string, error) { return r.ref(group, name) })
}

// ref returns the text of "$name" in a value of an option of group.
func (r *resolver) ref(group, name string) (string, error) {
	if g, opt, dotted := strings.Cut(name, "."); dotted {
		if !r.hasGroup(g) {
			return "", &substError{fmt.Sprintf("$%s: no such group [%s]", name, g)}
		}
		if s, ok, err := r.option(Name{g, opt}); ok || err != nil {
			return s, err
		}
		return "", &substError{fmt.Sprintf("$%s: no such option %s in group [%s]", name, opt, g)}
	}
	for _, g := range []string{group, DefaultSection} {
		if s, ok, err := r.option(Name{g, name}); ok || err != nil {
			return s, err
		}
	}
	return "", &substError{fmt.Sprintf(`$%s: no such option %s in group [%s] or [%s] (a literal "$" is written "$$")`, name, name, group, DefaultSection)}
}

func (r *resolver) hasGroup(g string) bool {
	if g == DefaultSection {
		return true
	}
	for n := range r.v.opts {
		if n.Group == g {
			return true
		}
	}
	if r.v.file != nil {
		_, ok := r.v.file.values[g]
		return ok
	}
	return false
}

// option returns option n's value as oslo would substitute it: a schema
// option by its type, or else a value the files give for a name the schema
// does not know (options of libraries we do not reimplement).
func (r *resolver) option(n Name) (string, bool, error) {
	o, known := r.v.opts[n]
	var raw []string
	switch {
	case known:
		raw = r.v.vals[n]
	case r.v.file != nil:
		raw = r.v.file.values[n.Group][n.Name]
		if len(raw) == 0 {
			return "", false, nil
		}
		raw = raw[len(raw)-1:]
	default:
		return "", false, nil
	}
	for i, s := range r.stack {
		if s == n {
			loop := make([]string, 0, len(r.stack)-i+1)
			for _, m := range append(r.stack[i:], n) {
				loop = append(loop, "["+m.Group+"] "+m.Name)
			}
			return "", true, &substError{"substitution loop: " + strings.Join(loop, " -> ")}
		}
	}
	vals := raw
	if !known || !r.v.literal[n] {
		r.stack = append(r.stack, n)
		vals = make([]string, len(raw))
		for i, s := range raw {
			e, err := r.expand(n.Group, s)
			if err != nil {
				return "", true, err
			}
			vals[i] = e
		}
		r.stack = r.stack[:len(r.stack)-1]
	}
	if !known {
		return vals[0], true, nil
	}
	return pyText(o, vals), true, nil
}

// pyText renders an option's values as str() of oslo's typed value.
func pyText(o Opt, vals []string) string {
	if len(vals) == 0 {
		return "" // None substitutes as ""
	}
	last := vals[len(vals)-1]
	switch o.Type {
	case Int:
		if n, err := strconv.Atoi(strings.TrimSpace(last)); err == nil {
			return strconv.Itoa(n)
		}
	case Float:
		if f, err := strconv.ParseFloat(strings.TrimSpace(last), 64); err == nil {
			return pyFloat(f)
		}
	case Bool:
		if b, err := ParseBool(last); err == nil {
			if b {
				return "True"
			}
			return "False"
		}
	case List:
		return pyList(splitList(last))
	case MultiString:
		return pyList(vals)
	}
	return last
}

func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a >= 1e16 || a < 1e-4) {
		return strconv.FormatFloat(f, 'e', -1, 64) // Python: 1e+16
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyList is repr() of a list of str, as Python quotes its items.
func pyList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		quote := "'"
		if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
			quote = `"`
		}
		s = strings.ReplaceAll(s, `\`, `\\`)
		if quote == "'" {
			s = strings.ReplaceAll(s, "'", `\'`)
		}
		q[i] = quote + s + quote
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Expand returns the last value of key in section with oslo's
// substitution, references resolved from the files alone: for programs
// that read a file without a Schema (the agent's oslo-style
// --config-file).
func (f *INI) Expand(section, key string) (string, bool, error) {
	raw, ok := f.Get(section, key)
	if !ok {
		return "", false, nil
	}
	v := &Values{opts: map[Name]Opt{}, file: f}
	s, err := v.expand(Name{section, key}, raw)
	if err != nil {
		return "", true, fmt.Errorf("option [%s] %s: %w", section, key, err)
	}
	return s, true, nil
}
