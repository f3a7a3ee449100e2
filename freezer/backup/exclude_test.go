package backup

import (
	"strings"
	"testing"
)

func TestExcludeMatching(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*.log", "./a/b.log", true},
		{"*.log", "./a/b.log.1", false},
		{"cache", "./x/cache", true},
		{"cache", "./x/cache2", false},
		{"x/cache", "./x/cache", true},
		{"./x/*", "./x/y/z", true},
		{"[a-c]?", "./q/b1", true},
		{"[!a-c]?", "./q/b1", false},
		{"\\*", "./*", true},
		{"\\*", "./a", false},
		{"/abs", "./abs", false},
	}
	for _, c := range cases {
		ex, err := NewExcluder([]string{c.pattern})
		if err != nil {
			t.Fatal(err)
		}
		if got := ex.Match(c.name); got != c.want {
			t.Errorf("%q vs %q: %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

// FuzzExclude checks the wildcard matcher never panics and that a
// pattern without wildcards matches exactly itself.
func FuzzExclude(f *testing.F) {
	f.Add("*.log", "./a/b.log")
	f.Add("[a-c]?\\*", "b1*")
	f.Add("[!x", "[!x")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		fnmatch(pattern, name)
		if ex, err := NewExcluder([]string{pattern}); err == nil {
			ex.Match(name)
		}
		if !strings.ContainsAny(name, "*?[\\") && !fnmatch(name, name) {
			t.Fatalf("literal %q does not match itself", name)
		}
	})
}
