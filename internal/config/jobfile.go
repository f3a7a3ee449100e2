package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// The agent's --config job files are read with Python configparser's rules
// and %-interpolation, not oslo.config's, because upstream's agent reads
// them so and the scheduler writes them for it (every "%" doubled). The
// reader below is that parser; Schema.ReadJob turns a file into Settings
// like those of the command line, so both end in the same Values.

// jobSection is one section of an INI file, keys in file order.
type jobSection struct {
	name string
	keys []string
	vals map[string]string // raw values, as written (see interpolate)
	// lines holds the line of each key written in this section; keys
	// inherited from [DEFAULT] have none here.
	lines map[string]int
}

// parseJobSections reads an INI file with Python configparser's rules (not
// ParseINI's oslo rules: configparser keeps section names' case,
// does not unquote values, and rejects duplicate sections and keys), the parser
// upstream uses for --config job files: "[section]" headers, "key = value"
// or "key: value", keys lower-cased, values stripped, "#" and ";" comment
// lines (no inline comments), indented continuation lines joined with a
// newline, a key before any section or a duplicate section or key is an
// error. Keys of [DEFAULT] are inherited by every other section. Values
// are raw: %-interpolation is the reader's business (see interpolate), as
// configparser applies it in get(), not while reading.
func parseJobSections(r io.Reader, name string) ([]jobSection, error) {
	var secs []jobSection
	seen := map[string]bool{}
	var cur *jobSection
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
			secs = append(secs, jobSection{name: sn, vals: map[string]string{}, lines: map[string]int{}})
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
	var def *jobSection
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

func readJobSections(path string) ([]jobSection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	defer f.Close()
	return parseJobSections(f, path)
}

// JobFile is a parsed job file.
type JobFile struct {
	path     string
	sections []jobSection
}

// ParseJobFile parses a job file; name is used in messages.
func ParseJobFile(r io.Reader, name string) (*JobFile, error) {
	secs, err := parseJobSections(r, name)
	if err != nil {
		return nil, err
	}
	return &JobFile{path: name, sections: secs}, nil
}

// ReadJobFile reads and parses the job file at path.
func ReadJobFile(path string) (*JobFile, error) {
	secs, err := readJobSections(path)
	if err != nil {
		return nil, err
	}
	return &JobFile{path: path, sections: secs}, nil
}

// Get returns key of section expanded as configparser's get() does.
func (f *JobFile) Get(section, key string) (string, error) {
	for _, s := range f.sections {
		if s.name == section {
			v, ok := s.vals[strings.ToLower(key)]
			if !ok {
				return "", fmt.Errorf("no key %q in [%s]", key, section)
			}
			return interpolate(v, s.vals)
		}
	}
	return "", fmt.Errorf("no section [%s]", section)
}

// Job is what a job file says, in the schema's terms.
type Job struct {
	// Settings are the options of every section but [storage:NAME] ones,
	// merged in file order (a later section wins), after upstream's value
	// rules: None, False and false are false for a boolean and unset for
	// any other option; an empty value is no setting at all (the default
	// applies).
	Settings []Setting
	// Unknown are the keys that name no option, sorted.
	Unknown []string
	// Storages are the [storage:NAME] sections, one storage each.
	Storages []JobStorage
}

// JobStorage is one [storage:NAME] section: its keys by option name (by
// the key itself when no option has it), values after the value rules
// with "False" for off or unset and "True" for on.
type JobStorage struct {
	Section string
	Values  map[string]string
}

// jobValue applies upstream's job file value rules (False, false and None
// mean off or unset; True and true mean on) to a storage section value.
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

// fileNames maps every name a job file may use for an option (its name
// and aliases, dashes as underscores) to it; command-line-only options
// have none.
func (s Schema) fileNames() map[string]Opt {
	idx := map[string]Opt{}
	for _, o := range s {
		if o.CLIOnly {
			continue
		}
		idx[o.Name] = o
		for _, a := range o.Aliases {
			idx[normKey(a)] = o
		}
	}
	return idx
}

// ReadJob turns a job file into settings of s. Every key is expanded,
// unknown ones and those inherited from [DEFAULT] too, since upstream's
// config.get on each of them is what would fail; an error says where, never
// the value (job files hold passwords).
func (s Schema) ReadJob(f *JobFile) (*Job, error) {
	idx := s.fileNames()
	j := &Job{}
	secs := f.sections
	for _, sec := range secs {
		if sec.name == "DEFAULT" && len(secs) > 1 {
			// Already inherited by the other sections, and interpolated in
			// each one's context: a [DEFAULT] value may refer to a key that
			// only those sections have.
			continue
		}
		vals := make(map[string]string, len(sec.keys))
		for _, k := range sec.keys {
			v, err := interpolate(sec.vals[k], sec.vals)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", keyPlace(f.path, secs, sec, k), err)
			}
			vals[k] = v
		}
		if strings.HasPrefix(sec.name, "storage:") {
			st := JobStorage{Section: sec.name, Values: map[string]string{}}
			for _, k := range sec.keys {
				nk := normKey(k)
				if o, ok := idx[nk]; ok {
					nk = o.Name
				}
				st.Values[nk] = jobValue(vals[k])
			}
			j.Storages = append(j.Storages, st)
			continue
		}
		for _, k := range sec.keys {
			nk := normKey(k)
			o, ok := idx[nk]
			if !ok {
				j.Unknown = append(j.Unknown, nk)
				continue
			}
			v := vals[k]
			if v == "" {
				// "max_level =": unset (a scheduler job may carry empty
				// fields), so the default applies, not a bad integer.
				continue
			}
			st := Setting{Opt: o, Value: v, Flag: keyPlace(f.path, secs, sec, k)}
			switch jobValue(v) {
			case "False":
				if o.Type == Bool {
					st.Value = "false"
				} else {
					st.Unset = true
				}
			case "True":
				if o.Type == Bool {
					st.Value = "true"
				}
			}
			j.Settings = append(j.Settings, st)
		}
	}
	sort.Strings(j.Unknown)
	return j, nil
}

// keyPlace names where key k of section s was written, for errors:
// "file:line: [section] key", and for a key s inherits, the [DEFAULT] line.
func keyPlace(path string, secs []jobSection, s jobSection, k string) string {
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
