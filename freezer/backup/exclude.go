package backup

import (
	"fmt"
	"strings"
)

// Excluder matches archive names against --exclude patterns
// (BackupRequest.Exclude) the way GNU tar does by default: shell wildcards
// where '*' and '?' also match '/', not anchored (a pattern may match any
// trailing run of path components), case-sensitive. Engines use it to
// leave entries out, and the agent's consistency checksum to walk a tree
// as they do.
type Excluder struct {
	patterns []string
}

// NewExcluder checks patterns and returns their matcher; with no non-empty
// pattern it returns nil, which excludes nothing.
func NewExcluder(patterns []string) (*Excluder, error) {
	var ps []string
	for _, p := range patterns {
		if p == "" {
			continue
		}
		if err := checkPattern(p); err != nil {
			return nil, fmt.Errorf("exclude pattern %q: %w", p, err)
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return &Excluder{patterns: ps}, nil
}

// Match reports whether the archive name name (e.g. "./dir/file.log") is
// excluded.
func (e *Excluder) Match(name string) bool {
	if e == nil {
		return false
	}
	for _, p := range e.patterns {
		if fnmatch(p, name) {
			return true
		}
		for i := 0; i < len(name); i++ {
			if name[i] == '/' && i+1 < len(name) && name[i+1] != '/' && fnmatch(p, name[i+1:]) {
				return true
			}
		}
	}
	return false
}

func checkPattern(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[':
			if _, _, ok := matchClass(p[i:], 'a'); !ok {
				return fmt.Errorf("unterminated character class")
			}
		}
	}
	return nil
}

// fnmatch is fnmatch(3) without FNM_PATHNAME and FNM_PERIOD.
func fnmatch(pattern, name string) bool {
	px, nx := 0, 0
	starPx, starNx := -1, -1
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) {
					if adv, ok, valid := matchClass(pattern[px:], name[nx]); valid {
						if ok {
							px += adv
							nx++
							continue
						}
					} else if name[nx] == '[' { // an unterminated class is a literal
						px++
						nx++
						continue
					}
				}
			case '\\':
				if px+1 < len(pattern) {
					if nx < len(name) && name[nx] == pattern[px+1] {
						px += 2
						nx++
						continue
					}
				} else if nx < len(name) && name[nx] == '\\' {
					px++
					nx++
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if starPx >= 0 && starNx < len(name) {
			starNx++
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	return true
}

// matchClass matches c against the bracket expression at the start of p.
// It returns the length of the expression, whether c matched, and whether
// the expression is well formed.
func matchClass(p string, c byte) (int, bool, bool) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	matched := false
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return i + 1, matched != negate, true
		}
		first = false
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		if lo == '[' && i+1 < len(p) && p[i+1] == ':' {
			end := strings.Index(p[i+2:], ":]")
			if end >= 0 {
				if classMatch(p[i+2:i+2+end], c) {
					matched = true
				}
				i += 2 + end + 2
				continue
			}
		}
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			if hi == '\\' && i+2 < len(p) {
				i++
				hi = p[i+1]
			}
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return 0, false, false
}

func classMatch(class string, c byte) bool {
	switch class {
	case "alpha":
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	case "digit":
		return '0' <= c && c <= '9'
	case "alnum":
		return classMatch("alpha", c) || classMatch("digit", c)
	case "upper":
		return 'A' <= c && c <= 'Z'
	case "lower":
		return 'a' <= c && c <= 'z'
	case "space":
		return c == ' ' || '\t' <= c && c <= '\r'
	case "blank":
		return c == ' ' || c == '\t'
	case "punct":
		return c > ' ' && c < 0x7f && !classMatch("alnum", c)
	case "xdigit":
		return classMatch("digit", c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
	}
	return false
}

// ExcludeMatcher returns the test an engine's Backup applies to the entries
// of a tree for BackupRequest.Exclude: excluded reports whether the entry
// at rel (relative to the backed-up directory, slash-separated, e.g.
// "cache/tmp") is left out. It is for callers that must walk a tree as the
// engine does, such as the agent's consistency checksum.
func ExcludeMatcher(patterns []string) (excluded func(rel string) bool, err error) {
	e, err := NewExcluder(patterns)
	if err != nil {
		return nil, err
	}
	// Engines match archive names, which start with "./".
	return func(rel string) bool { return e.Match("./" + rel) }, nil
}
