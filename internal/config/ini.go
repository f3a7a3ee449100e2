package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultSection is oslo's name for the section of ungrouped options.
const DefaultSection = "DEFAULT"

// INI is one or more parsed INI files merged in load order.
type INI struct {
	sections []string                       // in first-seen order
	values   map[string]map[string][]string // section -> key -> values in order
	keys     map[string][]string            // section -> keys in first-seen order
}

func newINI() *INI {
	return &INI{values: map[string]map[string][]string{}, keys: map[string][]string{}}
}

// ParseINI parses one file with oslo.config's rules (the agent's job files
// have their own reader, ParseJobFile). name is used in error messages
// only.
func ParseINI(r io.Reader, name string) (*INI, error) {
	f := newINI()
	if err := f.parse(r, name); err != nil {
		return nil, err
	}
	return f, nil
}

// parse adds the file's values to f; values of keys seen before are
// replaced, except that repeats inside one file accumulate (MultiString).
func (f *INI) parse(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	section := ""
	lastKey := ""
	seenHere := map[string]bool{} // section+"\x00"+key assigned by this file
	lineNo := 0
	for sc.Scan() {
		lineNo++
		raw := strings.TrimRight(sc.Text(), "\r")
		if lineNo == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" {
			lastKey = ""
			continue
		}
		if trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		// An indented line continues the previous value (oslo and
		// configparser both join with a newline).
		if (raw[0] == ' ' || raw[0] == '\t') && lastKey != "" {
			vals := f.values[section][lastKey]
			vals[len(vals)-1] += "\n" + trimmed
			continue
		}
		if trimmed[0] == '[' {
			if !strings.HasSuffix(trimmed, "]") || len(trimmed) < 3 {
				return fmt.Errorf("%s:%d: invalid section header %q", name, lineNo, trimmed)
			}
			section = trimmed[1 : len(trimmed)-1]
			if strings.TrimSpace(section) == "" {
				return fmt.Errorf("%s:%d: empty section name", name, lineNo)
			}
			// oslo.config lower-cases group names, except "DEFAULT" spelt
			// so: [Keystone_AuthToken] is [keystone_authtoken], while
			// [default] and [ DEFAULT ] are groups of their own, which no
			// option belongs to (checked with python3-oslo.config).
			if section != DefaultSection {
				section = strings.ToLower(section)
			}
			f.addSection(section)
			lastKey = ""
			continue
		}
		if section == "" {
			return fmt.Errorf("%s:%d: option outside of any section", name, lineNo)
		}
		i := strings.IndexAny(trimmed, "=:")
		if i <= 0 {
			return fmt.Errorf("%s:%d: expected \"key = value\", got %q", name, lineNo, trimmed)
		}
		key := strings.TrimSpace(trimmed[:i])
		val := unquote(strings.TrimSpace(trimmed[i+1:]))
		id := section + "\x00" + key
		if _, ok := f.values[section][key]; !ok {
			f.keys[section] = append(f.keys[section], key)
		}
		if seenHere[id] {
			f.values[section][key] = append(f.values[section][key], val)
		} else {
			f.values[section][key] = []string{val}
			seenHere[id] = true
		}
		lastKey = key
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

func (f *INI) addSection(s string) {
	if _, ok := f.values[s]; !ok {
		f.values[s] = map[string][]string{}
		f.sections = append(f.sections, s)
	}
}

// unquote strips one pair of matching quotes, as oslo's parser does.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// Sections returns the section names in first-seen order.
func (f *INI) Sections() []string { return append([]string(nil), f.sections...) }

// Keys returns a section's keys in first-seen order.
func (f *INI) Keys(section string) []string { return append([]string(nil), f.keys[section]...) }

// Get returns the last value of key in section.
func (f *INI) Get(section, key string) (string, bool) {
	v := f.values[section][key]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// GetAll returns every value of a repeated key.
func (f *INI) GetAll(section, key string) []string {
	return append([]string(nil), f.values[section][key]...)
}

// LoadFiles reads the given files in order and then, for each directory,
// its *.conf files in sorted order, as oslo's --config-file and
// --config-dir do; later values win. A named file or directory that does
// not exist is an error: a typo must not silently run on defaults.
func LoadFiles(files, dirs []string) (*INI, error) {
	f := newINI()
	read := func(p string) error {
		fh, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("reading config file: %w", err)
		}
		defer fh.Close()
		return f.parse(fh, p)
	}
	for _, p := range files {
		if err := read(p); err != nil {
			return nil, err
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("reading config dir: %w", err)
		}
		matches, err := filepath.Glob(filepath.Join(d, "*.conf"))
		if err != nil {
			return nil, fmt.Errorf("listing config dir %s: %w", d, err)
		}
		sort.Strings(matches)
		for _, p := range matches {
			if err := read(p); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}
