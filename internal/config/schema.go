package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Type is an option's value type.
type Type int

// The option types oslo.config has and our programs use.
const (
	String Type = iota
	Int
	Float
	Bool
	List        // comma-separated, blanks trimmed
	MultiString // the key may repeat; every value is kept
)

func (t Type) String() string {
	switch t {
	case Int:
		return "integer"
	case Float:
		return "floating point"
	case Bool:
		return "boolean"
	case List:
		return "list"
	case MultiString:
		return "multi valued"
	default:
		return "string"
	}
}

// Name is a (group, option) pair.
type Name struct{ Group, Name string }

// Opt describes one option: where it lives, its type, default and help.
type Opt struct {
	Group   string // section; "" means DEFAULT
	Name    string // with underscores, as in files
	Type    Type
	Default string // textual default; "" means unset
	Help    string // one line
	Secret  bool   // never logged
	Choices []string
	// Deprecated lists older spellings that are still read, e.g. the flat
	// [DEFAULT] names of 13.0 for options that moved into a group; they are
	// accepted on the command line too (--conf for [scheduler] jobs_dir).
	Deprecated []Name
	// Aliases are other names of the option in its own group, read from
	// files and accepted on the command line: "engine" for engine_name,
	// "logfile" for log_file. Unlike Deprecated names they are not listed
	// in samples.
	Aliases []string
	// Short is a one-letter command-line spelling, without the dash.
	Short string
	// Metavar names the value in --help; default: the name in capitals.
	Metavar string
	// Section is the heading --help lists the option under; default: its
	// group.
	Section string
	// CLIOnly options exist on the command line only (--config-file,
	// --help): files cannot set them and samples leave them out.
	CLIOnly bool
	// Unsupported, when not empty, is why this program cannot do what the
	// option asks: it is accepted (files written for the Python programs
	// keep loading) but a run that sets it fails with this reason.
	// Supporting the option is deleting this field.
	Unsupported string
	// NoEffect, when not empty, is why the option is accepted but ignored
	// here; --help says so and a run that sets it warns with this reason.
	NoEffect string
	// Lenient marks a Bool option that was a string option in 13.0
	// (--no-incremental): on the command line it may take its value as
	// the next argument, and any value that is not a boolean means true.
	Lenient bool
}

// Flag is the option's main command-line spelling, --name with dashes
// (a grouped option is also --group-name, as oslo.config spells it).
func (o Opt) Flag() string { return "--" + strings.ReplaceAll(o.Name, "_", "-") }

// Where names the option for messages: its flag for a [DEFAULT] option,
// else "[group] name".
func (o Opt) Where() string {
	if o.group() == DefaultSection {
		return o.Flag()
	}
	return fmt.Sprintf("[%s] %s", o.group(), o.Name)
}

func (o Opt) group() string {
	if o.Group == "" {
		return DefaultSection
	}
	return o.Group
}

// Schema is a program's complete option list, in sample order.
type Schema []Opt

// Values holds the resolved options of a Schema.
type Values struct {
	opts map[Name]Opt
	vals map[Name][]string // as written: expanded when read (subst.go)
	set  map[Name]bool     // given by a file or an override, not a default
	// literal marks values given by Set (command line, environment),
	// which are not expanded.
	literal map[Name]bool
	src     map[Name]string // who set it: "file", or the SetFrom source
	file    *INI            // for references to options the schema does not know
}

// Bind resolves every option of s from f (which may be nil) and the
// defaults, validating types and choices. Options in f that the schema does
// not know are ignored, as oslo does.
func (s Schema) Bind(f *INI) (*Values, error) {
	v := &Values{opts: map[Name]Opt{}, vals: map[Name][]string{}, set: map[Name]bool{}, literal: map[Name]bool{}, src: map[Name]string{}, file: f}
	from := map[Name]Name{} // the spelling a file value was read under
	for _, o := range s {
		n := Name{o.group(), o.Name}
		if _, dup := v.opts[n]; dup {
			return nil, fmt.Errorf("option [%s] %s declared twice", n.Group, n.Name)
		}
		v.opts[n] = o
		if o.Default != "" {
			v.vals[n] = []string{o.Default}
		}
		if f == nil || o.CLIOnly {
			continue
		}
		// The current name wins over aliases and deprecated spellings.
		alts := []Name{n}
		for _, a := range o.Aliases {
			alts = append(alts, Name{n.Group, a})
		}
		for _, alt := range append(alts, o.Deprecated...) {
			g := alt.Group
			if g == "" {
				g = DefaultSection
			}
			all := f.GetAll(g, alt.Name)
			if len(all) == 0 {
				continue
			}
			if o.Type != MultiString {
				all = all[len(all)-1:]
			}
			v.vals[n] = all
			v.set[n] = true
			v.src[n] = "file"
			from[n] = Name{g, alt.Name}
			break
		}
	}
	// Types and choices are checked on the expanded values, as oslo
	// converts after substituting; every reference is resolved here once,
	// so that reading an option later cannot fail.
	for _, o := range s {
		n := Name{o.group(), o.Name}
		where, ok := from[n]
		if !ok {
			where = n
		}
		for _, raw := range v.vals[n] {
			e, err := v.expand(n, raw)
			var se *substError
			if errors.As(err, &se) && o.Secret {
				// The name after "$" is a piece of the secret.
				err = errors.New(`a "$" in the value names no option (the value is secret, not shown; a literal "$" is written "$$")`)
			}
			if err == nil {
				err = check(o, e)
			}
			if err != nil {
				return nil, fmt.Errorf("option [%s] %s: %w", where.Group, where.Name, err)
			}
		}
	}
	return v, nil
}

func check(o Opt, raw string) error {
	switch o.Type {
	case Int:
		if _, err := strconv.Atoi(strings.TrimSpace(raw)); err != nil {
			return fmt.Errorf("%q is not an integer", raw)
		}
	case Float:
		if _, err := strconv.ParseFloat(strings.TrimSpace(raw), 64); err != nil {
			return fmt.Errorf("%q is not a number", raw)
		}
	case Bool:
		if _, err := ParseBool(raw); err != nil && !o.Lenient {
			return err
		}
	}
	if len(o.Choices) > 0 && !slices.Contains(o.Choices, raw) {
		named := slices.DeleteFunc(slices.Clone(o.Choices), func(c string) bool { return c == "" })
		return fmt.Errorf("%q is not one of %s", raw, strings.Join(named, ", "))
	}
	return nil
}

// ParseBool is the one boolean parser of every program and file: the
// spellings oslo.config's Boolean type accepts, true/false, yes/no, on/off
// and 1/0 in any case, blanks trimmed. Anything else is an error, "none"
// and "" included, as for oslo.config: in the agent's job files (and only
// there) None means "unset", which the job file reader applies before a
// value is typed, as upstream's agent does.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

func (v *Values) lookup(group, name string) (Opt, []string) {
	if group == "" {
		group = DefaultSection
	}
	n := Name{group, name}
	o, ok := v.opts[n]
	if !ok {
		// Asking for an undeclared option is a programming error; failing
		// loudly beats silently reading a default of "".
		panic(fmt.Sprintf("config: option [%s] %s is not in the schema", group, name))
	}
	vals := v.vals[n]
	if v.literal[n] {
		return o, vals
	}
	out := make([]string, len(vals))
	for i, raw := range vals {
		e, err := v.expand(n, raw)
		if err != nil {
			e = raw // Bind checked every reference; a later Set cannot add one
		}
		out[i] = e
	}
	return o, out
}

// Set overrides an option (from a command-line flag or the environment),
// validating it like a file value.
func (v *Values) Set(group, name, value string) error {
	return v.SetFrom(group, name, value, "override")
}

// SetFrom is Set recording where the value came from (see Source).
func (v *Values) SetFrom(group, name, value, source string) error {
	o, current := v.lookup(group, name)
	if err := check(o, value); err != nil {
		return fmt.Errorf("option %s: %w", name, err)
	}
	n := Name{o.group(), name}
	if o.Type == MultiString && v.set[n] {
		// current is already expanded: the result is all literal.
		v.vals[n] = append(current, value)
	} else {
		v.vals[n] = []string{value}
	}
	v.set[n] = true
	v.literal[n] = true
	v.src[n] = source
	return nil
}

// Unset clears an option, default included, as a value that means "not
// set" does (None in the agent's job files); IsSet is then true.
func (v *Values) Unset(group, name, source string) {
	o, _ := v.lookup(group, name)
	n := Name{o.group(), name}
	v.vals[n] = nil
	v.set[n] = true
	v.literal[n] = true
	v.src[n] = source
}

// Source tells who set the option: "" for its default, "file" for a
// file read by Bind, else what SetFrom was given ("override" for Set).
func (v *Values) Source(group, name string) string {
	o, _ := v.lookup(group, name)
	return v.src[Name{o.group(), name}]
}

// Active reports whether the option was set to something that asks for an
// effect: a value that is not empty, and for a boolean, true. A file that
// says "snapshot = False" asks for nothing.
func (v *Values) Active(group, name string) bool {
	o, vals := v.lookup(group, name)
	if !v.set[Name{o.group(), name}] || len(vals) == 0 || vals[len(vals)-1] == "" {
		return false
	}
	if o.Type == Bool {
		b, err := ParseBool(vals[len(vals)-1])
		return b || (err != nil && o.Lenient)
	}
	return true
}

// Unsupported returns an error naming the first option that was set
// (Active) although this program does not support it, with the reason.
func (v *Values) Unsupported(s Schema) error {
	for _, o := range s {
		if o.Unsupported != "" && v.Active(o.Group, o.Name) {
			return fmt.Errorf("%s: %s", o.Where(), o.Unsupported)
		}
	}
	return nil
}

// NoEffect returns the options that were set (Active) but have no effect
// in this program; the program warns about each with its NoEffect reason.
func (v *Values) NoEffect(s Schema) []Opt {
	var out []Opt
	for _, o := range s {
		if o.NoEffect != "" && v.Active(o.Group, o.Name) {
			out = append(out, o)
		}
	}
	return out
}

// Type returns the option's type.
func (v *Values) Type(group, name string) Type {
	o, _ := v.lookup(group, name)
	return o.Type
}

// IsSet reports whether a file or an override gave the option a value.
func (v *Values) IsSet(group, name string) bool {
	o, _ := v.lookup(group, name)
	return v.set[Name{o.group(), name}]
}

// String returns the option's value, "" when unset.
func (v *Values) String(group, name string) string {
	_, vals := v.lookup(group, name)
	if len(vals) == 0 {
		return ""
	}
	return vals[len(vals)-1]
}

// Int returns an integer option; unset is 0. Values were validated by Bind
// and Set, so parsing cannot fail here.
func (v *Values) Int(group, name string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(v.String(group, name)))
	return n
}

// Float returns a floating point option; unset is 0.
func (v *Values) Float(group, name string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(v.String(group, name)), 64)
	return f
}

// Bool returns a boolean option; unset is false.
func (v *Values) Bool(group, name string) bool {
	o, _ := v.lookup(group, name)
	s := v.String(group, name)
	b, err := ParseBool(s)
	if err != nil && o.Lenient && strings.TrimSpace(s) != "" {
		return true
	}
	return b
}

// List returns a comma-separated list option, blanks trimmed, empty items
// dropped; for a MultiString option, every value.
func (v *Values) List(group, name string) []string {
	o, vals := v.lookup(group, name)
	if o.Type == MultiString {
		return append([]string(nil), vals...)
	}
	var out []string
	for _, item := range strings.Split(v.String(group, name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// WriteSample renders the schema as a commented oslo-style sample file:
// every option a file may set with its help, type, default, choices,
// deprecated names and, for one that has no effect here, why; commented
// out so that the file changes nothing when copied as is.
func WriteSample(w io.Writer, s Schema) error {
	bw := bufio.NewWriter(w)
	var groups []string
	byGroup := map[string][]Opt{}
	for _, o := range s {
		// A sample offers what a file may set: not command-line-only
		// options, nor unsupported ones, which fail when set (those that
		// merely have no effect are listed, saying so).
		if o.CLIOnly || o.Unsupported != "" {
			continue
		}
		g := o.group()
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], o)
	}
	// DEFAULT comes first, as in oslo's generated samples.
	slices.SortStableFunc(groups, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == DefaultSection:
			return -1
		case b == DefaultSection:
			return 1
		}
		return 0
	})
	for i, g := range groups {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "[%s]\n", g)
		for _, o := range byGroup[g] {
			fmt.Fprintln(bw)
			for _, line := range wrap(o.Help, 70) {
				fmt.Fprintf(bw, "# %s\n", line)
			}
			if note := o.notice(); note != "" {
				for _, line := range wrap(note, 70) {
					fmt.Fprintf(bw, "# %s\n", line)
				}
			}
			fmt.Fprintf(bw, "# (%s value)\n", o.Type)
			if len(o.Choices) > 0 {
				fmt.Fprintf(bw, "# Possible values: %s\n", strings.Join(o.Choices, ", "))
			}
			for _, d := range o.Deprecated {
				dg := d.Group
				if dg == "" {
					dg = DefaultSection
				}
				fmt.Fprintf(bw, "# Deprecated name: [%s] %s\n", dg, d.Name)
			}
			if o.Default == "" {
				fmt.Fprintf(bw, "#%s =\n", o.Name)
			} else {
				fmt.Fprintf(bw, "#%s = %s\n", o.Name, o.Default)
			}
		}
	}
	return bw.Flush()
}

func wrap(s string, width int) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return []string{"(no help text)"}
	}
	var lines []string
	cur := words[0]
	for _, w := range words[1:] {
		if len(cur)+1+len(w) > width {
			lines = append(lines, cur)
			cur = w
			continue
		}
		cur += " " + w
	}
	return append(lines, cur)
}

// notice is what --help and samples say about an option this program
// accepts without doing what it asks.
func (o Opt) notice() string {
	switch {
	case o.Unsupported != "":
		return "Not supported here (setting it is an error): " + o.Unsupported + "."
	case o.NoEffect != "":
		return "Accepted but has no effect here: " + o.NoEffect + "."
	}
	return ""
}
