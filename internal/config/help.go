package config

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Help is what a program's --help says besides its options.
type Help struct {
	Usage       string   // after "usage: ", e.g. "freezer-agent [options]"
	Description string   // paragraphs after the usage line
	Sections    []string // option headings in order; others follow in schema order
	Epilog      string   // after the options: files, environment, exit statuses
}

// WriteHelp renders --help, the same layout for every program: the usage
// line, the description, then each option under its Section (or group)
// heading, with its spellings, help, choices and default, and what this
// program does not do with it, then the epilog.
func WriteHelp(w io.Writer, h Help, s Schema) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "usage: %s\n", h.Usage)
	if d := strings.TrimRight(h.Description, "\n"); d != "" {
		fmt.Fprintf(bw, "\n%s\n", d)
	}
	idx := s.spellings()
	sections := append([]string(nil), h.Sections...)
	bySection := map[string][]Opt{}
	for _, o := range s {
		sec := o.section()
		if _, ok := bySection[sec]; !ok && !contains(sections, sec) {
			sections = append(sections, sec)
		}
		bySection[sec] = append(bySection[sec], o)
	}
	for _, sec := range sections {
		if len(bySection[sec]) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n%s:\n", sec)
		for _, o := range bySection[sec] {
			writeOptHelp(bw, o, idx)
		}
	}
	if e := strings.TrimRight(h.Epilog, "\n"); e != "" {
		fmt.Fprintf(bw, "\n%s\n", e)
	}
	return bw.Flush()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (o Opt) section() string {
	if o.Section != "" {
		return o.Section
	}
	if o.group() == DefaultSection {
		return "Options"
	}
	return "[" + o.group() + "] options"
}

// spellingsForHelp lists the spellings of o that idx maps to it: the
// short name, --name, --group-name, aliases and deprecated names, dashed.
func (o Opt) spellingsForHelp(idx map[string]spelling) []string {
	var out []string
	if o.Short != "" {
		out = append(out, "-"+o.Short)
	}
	seen := map[string]bool{}
	add := func(n string) {
		f := "--" + strings.ReplaceAll(n, "_", "-")
		if sp, ok := idx[f]; !seen[f] && ok && !sp.negate && sp.opt.group() == o.group() && sp.opt.Name == o.Name {
			seen[f] = true
			out = append(out, f)
		}
	}
	add(o.Name)
	if o.group() != DefaultSection {
		add(o.group() + "_" + o.Name)
	}
	for _, a := range o.Aliases {
		add(a)
	}
	for _, d := range o.Deprecated {
		add(d.Name)
	}
	return out
}

func writeOptHelp(w io.Writer, o Opt, idx map[string]spelling) {
	spell := strings.Join(o.spellingsForHelp(idx), ", ")
	if o.Type != Bool {
		mv := o.Metavar
		if mv == "" {
			mv = strings.ToUpper(o.Name)
		}
		spell += " " + mv
	}
	help := o.Help
	if o.group() != DefaultSection && !o.CLIOnly {
		help = fmt.Sprintf("[%s] %s: %s", o.group(), o.Name, help)
	}
	var choices []string
	for _, c := range o.Choices {
		if c != "" {
			choices = append(choices, c)
		}
	}
	if len(choices) > 0 {
		help += " One of: " + strings.Join(choices, ", ") + "."
	}
	if o.Default != "" {
		help += " Default: " + o.Default + "."
	}
	if n := o.notice(); n != "" {
		help += " " + n
	}
	fmt.Fprintf(w, "  %s\n", spell)
	for _, l := range wrap(help, 70) {
		fmt.Fprintf(w, "        %s\n", l)
	}
}
