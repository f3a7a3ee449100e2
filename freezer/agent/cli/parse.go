package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"freezer.dev/freezer/internal/config"
)

// flagSpec is what a command-line spelling means.
type flagSpec struct {
	opt    opt
	invert bool // --noNAME of a boolean
}

// flagIndex maps every accepted command-line spelling to its option.
func flagIndex(opts []opt) map[string]flagSpec {
	idx := map[string]flagSpec{}
	for _, o := range opts {
		idx["--"+strings.ReplaceAll(o.Name, "_", "-")] = flagSpec{opt: o}
		for _, a := range o.Aliases {
			idx[a] = flagSpec{opt: o}
		}
		if o.Short != "" {
			idx[o.Short] = flagSpec{opt: o}
		}
		if o.Kind == boolean {
			idx["--no"+strings.ReplaceAll(o.Name, "_", "-")] = flagSpec{opt: o, invert: true}
		}
	}
	// engine_name's flag is --engine; the dest spelling is accepted too.
	return idx
}

// iniIndex maps every accepted INI key (lower case, underscores) to its
// option name.
func iniIndex(opts []opt) map[string]string {
	idx := map[string]string{}
	for _, o := range opts {
		idx[o.Name] = o.Name
		for _, a := range o.Aliases {
			idx[strings.ReplaceAll(strings.TrimLeft(a, "-"), "-", "_")] = o.Name
		}
	}
	return idx
}

// cmdline is the parsed command line.
type cmdline struct {
	values  map[string]string // option name → value as given ("True"/"False" for booleans)
	help    bool
	version bool
	sample  bool // --print-sample-config

	// defaultFiles and defaultDirs are oslo's default config files and
	// directories, read when --config-file (resp. --config-dir) is not
	// given, as oslo.config does for upstream's agent.
	defaultFiles, defaultDirs []string
}

// parseArgs parses args (without the program name) the way upstream's
// oslo.config/argparse command line does: --name value, --name=value,
// -X value, -Xvalue, boolean --name / --noname. Anything else is a usage
// error naming the culprit, as argparse's "unrecognized arguments".
func parseArgs(args []string, opts []opt) (cmdline, error) {
	idx := flagIndex(opts)
	c := cmdline{values: map[string]string{}}
	var unknown []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-h", "--help":
			c.help = true
			continue
		case "--version":
			c.version = true
			continue
		case "--print-sample-config":
			c.sample = true
			continue
		case "--print-capabilities": // modes.go
			continue
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			unknown = append(unknown, a)
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		spec, ok := idx[name]
		if !ok && !hasVal && len(a) > 2 && a[1] != '-' {
			// -Fvalue
			if s, ok2 := idx[a[:2]]; ok2 && s.opt.Kind != boolean {
				spec, ok, name, val, hasVal = s, true, a[:2], a[2:], true
			}
		}
		if !ok {
			unknown = append(unknown, a)
			continue
		}
		o := spec.opt
		if o.Kind == boolean {
			v := "True"
			if hasVal {
				b, err := parseBool(val)
				if err != nil && o.Name == "no_incremental" {
					b, err = true, nil // 13.0's StrOpt: any non-empty value
				}
				if err != nil {
					return c, fmt.Errorf("%s: %w", name, err)
				}
				v = pyBool(b)
			} else if o.Name == "no_incremental" && i+1 < len(args) {
				// 13.0's --no-incremental took a value; accept one when it
				// reads as a boolean, and be a plain flag otherwise.
				if b, err := parseBool(args[i+1]); err == nil && args[i+1] != "" {
					v = pyBool(b)
					i++
				}
			}
			if spec.invert {
				if v == "True" {
					v = "False"
				} else {
					v = "True"
				}
			}
			c.values[o.Name] = v
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return c, fmt.Errorf("%s: expected one argument", name)
			}
			i++
			val = args[i]
		}
		c.values[o.Name] = val
	}
	if len(unknown) > 0 {
		return c, fmt.Errorf("unrecognized arguments: %s", strings.Join(unknown, " "))
	}
	return c, nil
}

// parseBool reads a boolean value as the job INI rules and oslo do.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0", "none", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want True or False)", s)
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// iniSection is one section of an INI file, keys in file order.
type iniSection struct {
	name string
	keys []string
	vals map[string]string // raw values, as written (see interpolate)
	// lines holds the line of each key written in this section; keys
	// inherited from [DEFAULT] have none here.
	lines map[string]int
}

// parseINI reads an INI file with Python configparser's rules (not
// internal/config's oslo rules: configparser keeps section names' case,
// does not unquote values, and rejects duplicate sections and keys), the parser
// upstream uses for --config job files: "[section]" headers, "key = value"
// or "key: value", keys lower-cased, values stripped, "#" and ";" comment
// lines (no inline comments), indented continuation lines joined with a
// newline, a key before any section or a duplicate section or key is an
// error. Keys of [DEFAULT] are inherited by every other section. Values
// are raw: %-interpolation is the reader's business (see interpolate), as
// configparser applies it in get(), not while reading.
func parseINI(r io.Reader, name string) ([]iniSection, error) {
	var secs []iniSection
	seen := map[string]bool{}
	var cur *iniSection
	lastKey := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			lastKey = ""
			continue
		}
		if trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		if indented && cur != nil && lastKey != "" {
			if cur.vals[lastKey] == "" {
				cur.vals[lastKey] = trimmed
			} else {
				cur.vals[lastKey] += "\n" + trimmed
			}
			continue
		}
		if strings.HasPrefix(trimmed, "[") {
			end := strings.Index(trimmed, "]")
			if end < 0 || indented {
				return nil, fmt.Errorf("%s:%d: bad section header %q", name, n, trimmed)
			}
			sn := trimmed[1:end]
			if seen[sn] {
				return nil, fmt.Errorf("%s:%d: section [%s] appears twice", name, n, sn)
			}
			seen[sn] = true
			secs = append(secs, iniSection{name: sn, vals: map[string]string{}, lines: map[string]int{}})
			cur = &secs[len(secs)-1]
			lastKey = ""
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: %q comes before any [section] header", name, n, trimmed)
		}
		i := strings.IndexAny(trimmed, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("%s:%d: want key = value, got %q", name, n, trimmed)
		}
		k := strings.ToLower(strings.TrimSpace(trimmed[:i]))
		v := strings.TrimSpace(trimmed[i+1:])
		if _, dup := cur.vals[k]; dup {
			return nil, fmt.Errorf("%s:%d: key %q appears twice in [%s]", name, n, k, cur.name)
		}
		cur.keys = append(cur.keys, k)
		cur.vals[k] = v
		cur.lines[k] = n
		lastKey = k
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	// [DEFAULT] is inherited, as configparser does.
	var def *iniSection
	for i := range secs {
		if secs[i].name == "DEFAULT" {
			def = &secs[i]
		}
	}
	if def != nil {
		for i := range secs {
			if secs[i].name == "DEFAULT" {
				continue
			}
			for _, k := range def.keys {
				if _, ok := secs[i].vals[k]; !ok {
					secs[i].keys = append(secs[i].keys, k)
					secs[i].vals[k] = def.vals[k]
				}
			}
		}
	}
	return secs, nil
}

func readINIFile(path string) ([]iniSection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	defer f.Close()
	return parseINI(f, path)
}

// jobINI is a --config job file split as upstream splits it (spec §1.9).
type jobINI struct {
	values   map[string]string // option name → value, all non-storage sections merged in order
	unknown  []string          // keys that are no option of ours
	storages []map[string]string
}

// jobValue applies the job INI value rules: False, false and None mean
// false/unset; True and true mean true; anything else is kept as is. An
// empty value leaves the option unset.
func jobValue(v string) string {
	switch v {
	case "False", "false", "None":
		return "False"
	case "True", "true":
		return "True"
	}
	return v
}

// normKey lower-cases and turns dashes into underscores (HEAD maps "-" to
// "_"; configparser already lower-cases).
func normKey(k string) string { return strings.ReplaceAll(strings.ToLower(k), "-", "_") }

func loadJobINI(path string, opts []opt) (jobINI, error) {
	secs, err := readINIFile(path)
	if err != nil {
		return jobINI{}, err
	}
	idx := iniIndex(opts)
	j := jobINI{values: map[string]string{}}
	for _, s := range secs {
		if s.name == "DEFAULT" && len(secs) > 1 {
			// Already inherited by the other sections, and interpolated in
			// each one's context: a [DEFAULT] value may refer to a key that
			// only those sections have.
			continue
		}
		// Every key is read, unknown ones and those inherited from
		// [DEFAULT] too, since upstream's config.get on each of them is
		// what would fail.
		vals := make(map[string]string, len(s.keys))
		for _, k := range s.keys {
			v, err := interpolate(s.vals[k], s.vals)
			if err != nil {
				return jobINI{}, fmt.Errorf("%s: %w", keyPlace(path, secs, s, k), err)
			}
			vals[k] = v
		}
		if strings.HasPrefix(s.name, "storage:") {
			m := map[string]string{}
			for _, k := range s.keys {
				nk := normKey(k)
				if o, ok := idx[nk]; ok {
					nk = o
				}
				m[nk] = jobValue(vals[k])
			}
			m["__section__"] = s.name
			j.storages = append(j.storages, m)
			continue
		}
		for _, k := range s.keys {
			nk := normKey(k)
			o, ok := idx[nk]
			if !ok {
				j.unknown = append(j.unknown, nk)
				continue
			}
			if vals[k] == "" {
				// "max_level =": unset (a scheduler job may carry empty
				// fields), so the default applies, not a bad integer.
				continue
			}
			j.values[o] = jobValue(vals[k])
		}
	}
	sort.Strings(j.unknown)
	return j, nil
}

// keyPlace names where key k of section s was written, for errors:
// "file:line: [section] key", and for a key s inherits, the [DEFAULT] line.
func keyPlace(path string, secs []iniSection, s iniSection, k string) string {
	if n, ok := s.lines[k]; ok {
		return fmt.Sprintf("%s:%d: [%s] %s", path, n, s.name, k)
	}
	for _, d := range secs {
		if n, ok := d.lines[k]; ok && d.name == "DEFAULT" {
			return fmt.Sprintf("%s:%d: [%s] %s (inherited from [DEFAULT])", path, n, s.name, k)
		}
	}
	return fmt.Sprintf("%s: [%s] %s", path, s.name, k)
}

// maxInterpolationDepth is configparser's MAX_INTERPOLATION_DEPTH: how many
// values deep references may nest.
const maxInterpolationDepth = 10

// interpolate expands raw as Python 3's configparser.ConfigParser() does in
// get() (BasicInterpolation), since upstream's agent reads --config job files
// that way and hand-written ones rely on it: "%%" is "%", "%(name)s" is the
// value of key name (lower-cased; vals is the section's keys over
// [DEFAULT]'s), itself expanded if it holds a "%". Any other "%" is an
// error, as are a missing key and references nested more than
// maxInterpolationDepth values deep.
//
// Errors do not quote the value: a job file holds passwords, and the
// message ends up on stderr and in the scheduler's job result.
func interpolate(raw string, vals map[string]string) (string, error) {
	var b strings.Builder
	if err := expandInto(&b, raw, vals, 1, ""); err != nil {
		return "", err
	}
	return b.String(), nil
}

// expandInto writes the expansion of rest to b. depth counts the values
// being expanded, as configparser counts them (the first is 1); via names
// the reference whose value rest is, for errors.
func expandInto(b *strings.Builder, rest string, vals map[string]string, depth int, via string) error {
	if depth > maxInterpolationDepth {
		return fmt.Errorf("%%(name)s references nest more than %d deep (a key that refers to itself?)", maxInterpolationDepth)
	}
	where := func(off int) string {
		if via == "" {
			return fmt.Sprintf("at offset %d", off)
		}
		return fmt.Sprintf("at offset %d of the value of %%(%s)s", off, via)
	}
	s := rest
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		off := len(s) - len(rest)
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			// configparser's pattern is %\(([^)]+)\)s: the name runs to
			// the first ")", is not trimmed, and must not be empty.
			end := strings.IndexByte(rest, ')')
			if end < 3 || !strings.HasPrefix(rest[end:], ")s") {
				return fmt.Errorf("bad interpolation variable reference %s: want %%(name)s, or %%%% for a literal %%", where(off))
			}
			name := strings.ToLower(rest[2:end])
			rest = rest[end+2:]
			v, ok := vals[name]
			if !ok {
				return fmt.Errorf("%%(%s)s %s refers to no key of this section or [DEFAULT]", name, where(off))
			}
			if !strings.Contains(v, "%") {
				b.WriteString(v)
				continue
			}
			if err := expandInto(b, v, vals, depth+1, name); err != nil {
				return err
			}
		default:
			return fmt.Errorf("'%%' %s must be followed by '%%' or '(' (write %%%% for a literal %%)", where(off))
		}
	}
	return nil
}

// loadOsloFiles reads --config-file and --config-dir/*.conf (sorted) with
// oslo's rules and returns the [DEFAULT] option values, later files
// winning. Without --config-file the default files are read, without
// --config-dir the default directories.
func loadOsloFiles(cl cmdline, opts []opt) (map[string]string, error) {
	out := map[string]string{}
	files, dirs := cl.defaultFiles, cl.defaultDirs
	if f := cl.values["config_file"]; f != "" {
		files = []string{f}
	}
	if d := cl.values["config_dir"]; d != "" {
		dirs = []string{d}
	}
	if len(files) == 0 && len(dirs) == 0 {
		return out, nil
	}
	f, err := config.LoadFiles(files, dirs)
	if err != nil {
		return nil, err
	}
	idx := iniIndex(opts)
	for _, k := range f.Keys(config.DefaultSection) {
		if o, ok := idx[normKey(k)]; ok {
			// oslo.config's $option substitution, as the Python agent
			// reads these files with it.
			v, _, err := f.Expand(config.DefaultSection, k)
			if err != nil {
				return nil, err
			}
			out[o] = jobValue(v)
		}
	}
	return out, nil
}
