package storage

import (
	"fmt"
	"strconv"
	"strings"

	"freezer.dev/freezer/internal/config"
)

// Values holds one storage's settings under upstream's option names, as
// they come from the command line (--ssh-host) or a [storage:NAME] INI
// section (ssh_host). Keys are normalised to lower case with "_", so both
// spellings find the same value.
type Values map[string]string

// NormKey is the form Values keys are stored and looked up in.
func NormKey(k string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimLeft(strings.TrimSpace(k), "-")), "-", "_")
}

// ValuesFrom copies m with normalised keys.
func ValuesFrom(m map[string]string) Values {
	v := Values{}
	for k, val := range m {
		v[NormKey(k)] = val
	}
	return v
}

// Get returns the first non-empty value among names.
func (v Values) Get(names ...string) string {
	for _, n := range names {
		if s := strings.TrimSpace(v[NormKey(n)]); s != "" {
			return s
		}
	}
	return ""
}

// Or is Get with, when all names are empty, the first non-empty of the
// environment variables envs read through getenv (which may be nil).
func (v Values) Or(getenv func(string) string, names []string, envs ...string) string {
	if s := v.Get(names...); s != "" {
		return s
	}
	if getenv == nil {
		return ""
	}
	for _, e := range envs {
		if s := strings.TrimSpace(getenv(e)); s != "" {
			return s
		}
	}
	return ""
}

// Bool parses a boolean option with config.ParseBool, the spellings of
// every program and file; "" is def.
func Bool(s string, def bool) (bool, error) {
	if strings.TrimSpace(s) == "" {
		return def, nil
	}
	return config.ParseBool(s)
}

// Int parses an integer option; "" is def.
func Int(name, s string, def int) (int, error) {
	if strings.TrimSpace(s) == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("option %s: %q is not an integer", name, s)
	}
	return n, nil
}

// DefaultSegmentSize is upstream's --max-segment-size default, 32 MiB.
const DefaultSegmentSize = 32 << 20

// SegmentSize reads --max-segment-size (bytes, or with a K/M/G suffix).
func SegmentSize(v Values) (int, error) {
	s := v.Get("max_segment_size")
	if s == "" {
		return DefaultSegmentSize, nil
	}
	n, err := ParseSize(s)
	if err != nil || n <= 0 || n > 5<<30 {
		return 0, fmt.Errorf("option max-segment-size: %q: want a positive size up to 5G", s)
	}
	return int(n), nil
}
