package config

import (
	"fmt"
	"strings"
)

// Setting is one option given on the command line.
type Setting struct {
	Opt   Opt
	Value string // as given; "true"/"false" for a boolean flag without a value
	Flag  string // the spelling used, or the place in a file, for messages
	// Unset clears the option instead (None in a job file).
	Unset bool
}

// Args is a parsed command line.
type Args struct {
	Settings   []Setting // in command-line order
	Positional []string  // arguments that are no option, and all after "--"
}

// spelling is what one command-line spelling means.
type spelling struct {
	opt    Opt
	negate bool // --noNAME of a boolean
}

// spellings indexes every command-line spelling of s, as oslo.config and
// argparse accept them: --name (with dashes or underscores), --group-name
// for a grouped option, its aliases and deprecated names, -X for a short
// name, and --noNAME for each long spelling of a boolean. An explicit
// spelling wins over a negated one (the agent's --no-incremental is an
// option of its own, not "not --incremental").
func (s Schema) spellings() map[string]spelling {
	idx := map[string]spelling{}
	var negated []string
	add := func(name string, o Opt) {
		for _, n := range []string{strings.ReplaceAll(name, "_", "-"), name} {
			if _, dup := idx["--"+n]; dup {
				continue
			}
			idx["--"+n] = spelling{opt: o}
			if o.Type == Bool {
				negated = append(negated, n)
			}
		}
	}
	for _, o := range s {
		names := []string{o.Name}
		if g := o.group(); g != DefaultSection {
			names = append(names, g+"_"+o.Name)
		}
		names = append(names, o.Aliases...)
		for _, d := range o.Deprecated {
			names = append(names, d.Name)
		}
		for _, n := range names {
			add(n, o)
		}
		if o.Short != "" {
			idx["-"+o.Short] = spelling{opt: o}
		}
	}
	for _, n := range negated {
		if _, taken := idx["--no"+n]; !taken {
			idx["--no"+n] = spelling{opt: idx["--"+n].opt, negate: true}
		}
	}
	return idx
}

// ParseArgs parses a command line (without the program name) against s,
// with argparse's rules as oslo.config sets them up: "--name value",
// "--name=value", "-X value", "-Xvalue"; a boolean takes no value
// ("--debug", "--nodebug") unless given with "=" ("--debug=false"); a
// repeated option's last value wins, except for MultiString options, which
// keep every one; "--" ends the options. Anything that does not start with
// "-" is positional, wherever it appears. Unknown options are reported
// together, as argparse's "unrecognized arguments".
func (s Schema) ParseArgs(args []string) (*Args, error) {
	idx := s.spellings()
	a := &Args{}
	var unknown []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			a.Positional = append(a.Positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			a.Positional = append(a.Positional, arg)
			continue
		}
		name, val, hasVal := strings.Cut(arg, "=")
		sp, ok := idx[name]
		if !ok && !hasVal && len(arg) > 2 && arg[1] != '-' {
			// -Fvalue
			if s, ok2 := idx[arg[:2]]; ok2 && s.opt.Type != Bool {
				sp, ok, name, val, hasVal = s, true, arg[:2], arg[2:], true
			}
		}
		if !ok {
			unknown = append(unknown, arg)
			continue
		}
		o := sp.opt
		if o.Type == Bool {
			b := true
			if hasVal {
				var err error
				if b, err = ParseBool(val); err != nil {
					if !o.Lenient {
						return nil, fmt.Errorf("%s: %w", name, err)
					}
					b = strings.TrimSpace(val) != ""
				}
			} else if o.Lenient && i+1 < len(args) {
				// 13.0's string option took a value: take the next
				// argument when it reads as a boolean, and be a plain
				// flag otherwise.
				if nb, err := ParseBool(args[i+1]); err == nil {
					b = nb
					i++
				}
			}
			if sp.negate {
				b = !b
			}
			a.Settings = append(a.Settings, Setting{Opt: o, Value: fmt.Sprint(b), Flag: name})
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%s: expected one argument", name)
			}
			i++
			val = args[i]
		}
		a.Settings = append(a.Settings, Setting{Opt: o, Value: val, Flag: name})
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unrecognized arguments: %s", strings.Join(unknown, " "))
	}
	return a, nil
}

// Has reports whether the command line set the option.
func (a *Args) Has(group, name string) bool {
	_, ok := a.Last(group, name)
	return ok
}

// Last returns the last value the command line gave the option.
func (a *Args) Last(group, name string) (string, bool) {
	if group == "" {
		group = DefaultSection
	}
	for i := len(a.Settings) - 1; i >= 0; i-- {
		if o := a.Settings[i].Opt; o.group() == group && o.Name == name {
			return a.Settings[i].Value, true
		}
	}
	return "", false
}

// All returns every value the command line gave the option, in order.
func (a *Args) All(group, name string) []string {
	if group == "" {
		group = DefaultSection
	}
	var out []string
	for _, st := range a.Settings {
		if st.Opt.group() == group && st.Opt.Name == name {
			out = append(out, st.Value)
		}
	}
	return out
}

// Bool reports whether the command line set a boolean option to true
// (--help, --version).
func (a *Args) Bool(group, name string) bool {
	v, _ := a.Last(group, name)
	b, _ := ParseBool(v)
	return b
}

// Apply sets every option of the command line on v, recording source;
// options the command line sets win over files and defaults. A
// MultiString option given several times keeps every value.
func (v *Values) Apply(a *Args, source string) error {
	return v.ApplySettings(a.Settings, source)
}

// ApplySettings sets each setting in order (a job file's, or the command
// line's).
func (v *Values) ApplySettings(settings []Setting, source string) error {
	seen := map[Name]bool{}
	for _, st := range settings {
		n := Name{st.Opt.group(), st.Opt.Name}
		if st.Opt.Type == MultiString && !seen[n] {
			// The command line replaces the files' values, as oslo does.
			v.Unset(n.Group, n.Name, source)
		}
		seen[n] = true
		if st.Unset {
			v.Unset(n.Group, n.Name, source)
			continue
		}
		if err := v.SetFrom(n.Group, n.Name, st.Value, source); err != nil {
			return fmt.Errorf("%s: %w", st.Flag, unwrapOption(err))
		}
	}
	return nil
}

// unwrapOption drops Set's "option NAME: " prefix when the flag is named
// instead.
func unwrapOption(err error) error {
	if u, ok := err.(interface{ Unwrap() error }); ok && u.Unwrap() != nil {
		return u.Unwrap()
	}
	return err
}

// ParseCommandLine parses args against s and returns its values, the
// command line applied over the defaults, and the positional arguments:
// the whole of option handling for a tool that reads no config file.
func (s Schema) ParseCommandLine(args []string) (*Values, []string, error) {
	a, err := s.ParseArgs(args)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.Bind(nil)
	if err != nil {
		return nil, nil, err
	}
	if err := v.Apply(a, "command line"); err != nil {
		return nil, nil, err
	}
	return v, a.Positional, nil
}
