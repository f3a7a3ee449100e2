package config

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Arg is a command-line argument of a program with subcommands (the
// `freezer` client). It reuses Opt for the name, type, default, help and
// choices: Type Bool is a switch, MultiString may repeat, everything else
// takes one value. Name is the long spelling without dashes, with dashes
// between words ("os-auth-url"); a positional argument's Name is its
// metavar.
type Arg struct {
	Opt
	Short      string // one letter, without the dash
	Aliases    []string
	Metavar    string // shown in help; default: Name upper-cased
	Required   bool
	Positional bool
	Env        string // the default comes from this variable when set
	Count      bool   // counts repetitions (-v -v)
	Hidden     bool   // accepted, left out of help
	Section    string // help heading; "" means "options"
	// RequiredUnless names an argument whose presence makes a Required
	// one optional (an extension that stands in for a required file).
	RequiredUnless string
	// NotInUsage leaves the argument out of the usage line (it stays in
	// the help): extensions keep a program's usage as it was.
	NotInUsage bool
	// Group joins consecutive arguments that exclude each other, shown
	// as "[--a | --b]".
	Group string
	// LongFirst lists the long spelling before the short one, as a
	// program that declared "--client, -C" shows it in usage and errors.
	LongFirst bool
}

func (a Arg) metavar() string {
	if a.Metavar != "" {
		return a.Metavar
	}
	if a.Positional {
		return a.Name
	}
	return strings.ToUpper(strings.ReplaceAll(a.Name, "-", "_"))
}

func (a Arg) spellings() []string {
	var s []string
	if a.Short != "" && !a.LongFirst {
		s = append(s, "-"+a.Short)
	}
	s = append(s, "--"+a.Name)
	if a.Short != "" && a.LongFirst {
		s = append(s, "-"+a.Short)
	}
	for _, al := range a.Aliases {
		if len(al) == 1 {
			s = append(s, "-"+al)
		} else {
			s = append(s, "--"+al)
		}
	}
	return s
}

// Command is one subcommand's argument list, parsed the way Python's
// argparse does: long options may be abbreviated to a unique prefix,
// `--opt=value` and `-fvalue` work, and errors name the usage.
type Command struct {
	Prog        string // "freezer job-list"
	Description string
	Args        []Arg
}

// UsageError is a command line that does not parse; argparse exits 2 with
// the usage and this message.
type UsageError struct {
	Usage string
	Prog  string
	Msg   string
}

func (e *UsageError) Error() string { return e.Msg }

// Render writes the message the way argparse does.
func (e *UsageError) Render(w io.Writer) {
	fmt.Fprintf(w, "%s%s: error: %s\n", e.Usage, e.Prog, e.Msg)
}

// ErrHelp is returned when -h/--help was given.
var ErrHelp = fmt.Errorf("help requested")

// Parsed holds the values of one parse: a single value per name (the last
// one given), all values of repeated options, counts and switches.
type Parsed struct {
	vals  map[string][]string
	given map[string]bool
}

// String is the value of name, or its default.
func (p *Parsed) String(name string) string {
	v := p.vals[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// Strings are all values given for a repeatable option.
func (p *Parsed) Strings(name string) []string { return p.vals[name] }

// Bool reports a switch.
func (p *Parsed) Bool(name string) bool {
	b, _ := ParseBool(p.String(name))
	return b
}

// Count is how often a counting switch was given.
func (p *Parsed) Count(name string) int { return len(p.vals[name]) }

// Given reports whether name was on the command line.
func (p *Parsed) Given(name string) bool { return p.given[name] }

// Set overrides a value (a command filling in defaults of its own).
func (p *Parsed) Set(name, value string) { p.vals[name] = []string{value} }

// Match finds the argument a command-line token names: an exact
// spelling, or a unique prefix of a long one. ok is false when no
// argument matches; an ambiguous prefix is an error.
func match(args []Arg, tok string) (a *Arg, ok bool, err error) {
	name := tok
	if i := strings.IndexByte(tok, '='); i > 0 && strings.HasPrefix(tok, "--") {
		name = tok[:i]
	}
	for i := range args {
		if args[i].Positional {
			continue
		}
		if slices.Contains(args[i].spellings(), name) {
			return &args[i], true, nil
		}
	}
	if strings.HasPrefix(name, "--") && len(name) > 2 {
		var found []*Arg
		var names []string
		for i := range args {
			if args[i].Positional {
				continue
			}
			for _, s := range args[i].spellings() {
				if strings.HasPrefix(s, "--") && strings.HasPrefix(s, name) {
					found = append(found, &args[i])
					names = append(names, s)
					break
				}
			}
		}
		if len(found) == 1 {
			return found[0], true, nil
		}
		if len(found) > 1 {
			return nil, false, fmt.Errorf("ambiguous option: %s could match %s", name, strings.Join(names, ", "))
		}
	}
	if !strings.HasPrefix(name, "--") && len(name) > 2 && name[0] == '-' {
		// -fvalue
		for i := range args {
			if args[i].Short != "" && name[1:2] == args[i].Short && args[i].Type != Bool && !args[i].Count {
				return &args[i], true, nil
			}
		}
	}
	return nil, false, nil
}

// SplitKnown takes the arguments of args out of argv wherever they stand
// (argparse's parse_known_args: a program's global options may follow the
// subcommand) and returns the rest in order.
func SplitKnown(args []Arg, argv []string, env func(string) string) (*Parsed, []string, error) {
	p := newParsed(args, env)
	var rest []string
	for i := 0; i < len(argv); i++ {
		tok := argv[i]
		if tok == "--" {
			rest = append(rest, argv[i:]...)
			break
		}
		if !strings.HasPrefix(tok, "-") || tok == "-" {
			rest = append(rest, tok)
			continue
		}
		a, ok, err := match(args, tok)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			rest = append(rest, tok)
			continue
		}
		n, err := p.take(a, tok, argv[i+1:])
		if err != nil {
			return nil, nil, err
		}
		i += n
	}
	return p, rest, nil
}

func newParsed(args []Arg, env func(string) string) *Parsed {
	p := &Parsed{vals: map[string][]string{}, given: map[string]bool{}}
	for _, a := range args {
		def := a.Default
		if a.Env != "" && env != nil {
			if v := env(a.Env); v != "" {
				def = v
			}
		}
		if def != "" && !a.Count {
			p.vals[a.Name] = []string{def}
		}
	}
	return p
}

// take stores one option occurrence and returns how many following
// tokens it consumed.
func (p *Parsed) take(a *Arg, tok string, next []string) (int, error) {
	if !p.given[a.Name] && a.Type == MultiString {
		p.vals[a.Name] = nil
	}
	p.given[a.Name] = true
	switch {
	case a.Count:
		p.vals[a.Name] = append(p.vals[a.Name], "1")
		return 0, nil
	case a.Type == Bool:
		if strings.Contains(tok, "=") {
			return 0, fmt.Errorf("argument %s: ignored explicit argument '%s'", strings.Join(a.spellings(), "/"), tok[strings.IndexByte(tok, '=')+1:])
		}
		p.vals[a.Name] = []string{"true"}
		return 0, nil
	}
	var val string
	n := 0
	switch {
	case strings.HasPrefix(tok, "--") && strings.Contains(tok, "="):
		val = tok[strings.IndexByte(tok, '=')+1:]
	case !strings.HasPrefix(tok, "--") && len(tok) > 2:
		val = tok[2:]
	default:
		if len(next) == 0 || (strings.HasPrefix(next[0], "-") && len(next[0]) > 1 && !isNumber(next[0])) {
			return 0, fmt.Errorf("argument %s: expected one argument", strings.Join(a.spellings(), "/"))
		}
		val, n = next[0], 1
	}
	if len(a.Choices) > 0 && !slices.Contains(a.Choices, val) {
		q := make([]string, len(a.Choices))
		for i, c := range a.Choices {
			q[i] = "'" + c + "'"
		}
		return 0, fmt.Errorf("argument %s: invalid choice: '%s' (choose from %s)", strings.Join(a.spellings(), "/"), val, strings.Join(q, ", "))
	}
	if a.Type == Int {
		if _, err := parseInt(val); err != nil {
			return 0, fmt.Errorf("argument %s: invalid int value: '%s'", strings.Join(a.spellings(), "/"), val)
		}
	}
	if a.Type == MultiString {
		p.vals[a.Name] = append(p.vals[a.Name], val)
	} else {
		p.vals[a.Name] = []string{val}
	}
	return n, nil
}

func isNumber(s string) bool {
	_, err := parseInt(s)
	return err == nil
}

func parseInt(s string) (int, error) {
	var n int
	_, err := fmt.Sscanf(strings.TrimSpace(s), "%d", &n)
	if err == nil && strings.TrimLeft(strings.TrimSpace(s), "+-0123456789") != "" {
		err = fmt.Errorf("not an integer")
	}
	return n, err
}

// Parse parses a subcommand's arguments. -h/--help gives ErrHelp; every
// other mistake is a *UsageError.
func (c *Command) Parse(argv []string, env func(string) string) (*Parsed, error) {
	p := newParsed(c.Args, env)
	var pos []Arg
	for _, a := range c.Args {
		if a.Positional {
			pos = append(pos, a)
		}
	}
	var extra []string
	onlyPos := false
	for i := 0; i < len(argv); i++ {
		tok := argv[i]
		if tok == "--" && !onlyPos {
			onlyPos = true
			continue
		}
		if !onlyPos && strings.HasPrefix(tok, "-") && tok != "-" && !isNumber(tok) {
			if tok == "-h" || tok == "--help" || (strings.HasPrefix("--help", tok) && len(tok) > 3 && !c.hasPrefix(tok)) {
				return nil, ErrHelp
			}
			a, ok, err := match(c.Args, tok)
			if err != nil {
				return nil, c.usageError(err.Error())
			}
			if !ok {
				extra = append(extra, tok)
				continue
			}
			n, err := p.take(a, tok, argv[i+1:])
			if err != nil {
				return nil, c.usageError(err.Error())
			}
			i += n
			continue
		}
		if len(pos) > 0 {
			p.vals[pos[0].Name] = []string{tok}
			p.given[pos[0].Name] = true
			pos = pos[1:]
			continue
		}
		extra = append(extra, tok)
	}
	groups := map[string]string{}
	for _, a := range c.Args {
		if a.Group == "" || !p.given[a.Name] {
			continue
		}
		if other, ok := groups[a.Group]; ok {
			return nil, c.usageError(fmt.Sprintf("argument --%s: not allowed with argument --%s", a.Name, other))
		}
		groups[a.Group] = a.Name
	}
	var missing []string
	for _, a := range c.Args {
		if (a.Required || a.Positional) && !p.given[a.Name] && (a.RequiredUnless == "" || !p.given[a.RequiredUnless]) {
			if a.Positional {
				missing = append(missing, a.metavar())
			} else {
				missing = append(missing, strings.Join(a.spellings(), "/"))
			}
		}
	}
	if len(missing) > 0 {
		return nil, c.usageError("the following arguments are required: " + strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		return nil, c.usageError("unrecognized arguments: " + strings.Join(extra, " "))
	}
	return p, nil
}

func (c *Command) hasPrefix(tok string) bool {
	for _, a := range c.Args {
		if strings.HasPrefix("--"+a.Name, tok) {
			return true
		}
	}
	return false
}

func (c *Command) usageError(msg string) error {
	return &UsageError{Usage: c.Usage(), Prog: c.Prog, Msg: msg}
}

// Usage is argparse's "usage: ..." paragraph for a 80-column terminal:
// on one line when it fits, else the options wrapped under the program
// name and the positionals on lines of their own.
func (c *Command) Usage() string {
	const textWidth = 78
	opts := []string{"[-h]"}
	var posParts []string
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if a.Hidden || a.NotInUsage {
			continue
		}
		if a.Positional {
			mv := a.metavar()
			if a.Type == MultiString {
				mv = "[" + mv + " ...]"
			}
			posParts = append(posParts, mv)
			continue
		}
		if a.Group != "" {
			var alts []string
			for ; i < len(c.Args) && c.Args[i].Group == a.Group; i++ {
				alts = append(alts, c.Args[i].usagePart())
			}
			i--
			opts = append(opts, "["+strings.Join(alts, " | ")+"]")
			continue
		}
		s := a.usagePart()
		if !a.Required {
			s = "[" + s + "]"
		}
		opts = append(opts, s)
	}
	const prefix = "usage: "
	all := strings.Join(append(append([]string{c.Prog}, opts...), posParts...), " ")
	if len(prefix)+len(all) <= textWidth {
		return prefix + all + "\n"
	}
	indent := strings.Repeat(" ", len(prefix)+len(c.Prog)+1)
	lines := usageLines(append([]string{c.Prog}, opts...), indent, prefix, textWidth)
	if len(posParts) > 0 {
		lines = append(lines, usageLines(posParts, indent, "", textWidth)...)
	}
	return prefix + strings.Join(lines, "\n") + "\n"
}

func (a Arg) usagePart() string {
	s := a.spellings()[0]
	if a.Type != Bool && !a.Count {
		mv := a.metavar()
		if len(a.Choices) > 0 && a.Metavar == "" {
			mv = "{" + strings.Join(a.Choices, ",") + "}"
		}
		s += " " + mv
	}
	return s
}

// usageLines is argparse's get_lines.
func usageLines(parts []string, indent, prefix string, width int) []string {
	var lines, line []string
	lineLen := len(indent) - 1
	if prefix != "" {
		lineLen = len(prefix) - 1
	}
	for _, p := range parts {
		if lineLen+1+len(p) > width && len(line) > 0 {
			lines = append(lines, indent+strings.Join(line, " "))
			line = nil
			lineLen = len(indent) - 1
		}
		line = append(line, p)
		lineLen += len(p) + 1
	}
	if len(line) > 0 {
		lines = append(lines, indent+strings.Join(line, " "))
	}
	if prefix != "" {
		lines[0] = lines[0][len(indent):]
	}
	return lines
}

// Help is argparse's help page: usage, description, and each section's
// options.
func (c *Command) Help() string {
	var b strings.Builder
	b.WriteString(c.Usage())
	if c.Description != "" {
		b.WriteString("\n" + c.Description + "\n")
	}
	var pos []Arg
	for _, a := range c.Args {
		if a.Positional {
			pos = append(pos, a)
		}
	}
	if len(pos) > 0 {
		b.WriteString("\npositional arguments:\n")
		for _, a := range pos {
			helpLine(&b, a.metavar(), a.Help)
		}
	}
	sections := []string{""}
	for _, a := range c.Args {
		if !a.Positional && !slices.Contains(sections, a.Section) {
			sections = append(sections, a.Section)
		}
	}
	for _, s := range sections {
		title := s
		if title == "" {
			title = "options"
		}
		b.WriteString("\n" + title + ":\n")
		if s == "" {
			helpLine(&b, "-h, --help", "show this help message and exit")
		}
		for _, a := range c.Args {
			if a.Positional || a.Hidden || a.Section != s {
				continue
			}
			var sp []string
			for _, x := range a.spellings() {
				if a.Type != Bool && !a.Count {
					mv := a.metavar()
					if len(a.Choices) > 0 && a.Metavar == "" {
						mv = "{" + strings.Join(a.Choices, ",") + "}"
					}
					x += " " + mv
				}
				sp = append(sp, x)
			}
			helpLine(&b, strings.Join(sp, ", "), a.Help)
		}
	}
	return b.String()
}

func helpLine(b *strings.Builder, left, help string) {
	const col = 24
	var lines []string
	if help != "" {
		lines = wrap(help, 54)
	}
	if len(left)+2 >= col || len(lines) == 0 {
		b.WriteString("  " + left + "\n")
	} else {
		b.WriteString("  " + left + strings.Repeat(" ", col-2-len(left)))
		b.WriteString(lines[0] + "\n")
		lines = lines[1:]
	}
	for _, l := range lines {
		b.WriteString(strings.Repeat(" ", col) + l + "\n")
	}
}
