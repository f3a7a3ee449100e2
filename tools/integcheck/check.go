package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/build"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TestID names a top-level test or a subtest of a package.
type TestID struct {
	Pkg  string // import path
	Name string
}

func (id TestID) String() string { return id.Pkg + " " + id.Name }

// Checker compares the tests the tagged files define with those a run
// reported.
type Checker struct {
	// Tag marks the integration test files.
	Tag string

	module   string
	expected map[TestID]string // test → file defining it
	files    int
	problems []string // found while scanning the sources
	allow    []allowEntry

	ran     map[TestID]bool
	skipped []TestID
	outputs map[TestID]*bytes.Buffer
}

type allowEntry struct {
	pkg, test, reason string
	line              int
}

// LoadAllowList reads the allowed skips. A missing file allows none.
func (c *Checker) LoadAllowList(file string) error {
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return fmt.Errorf("%s:%d: want \"package test-pattern reason\", got %q", file, i+1, line)
		}
		if _, err := path.Match(f[1], ""); err != nil {
			return fmt.Errorf("%s:%d: bad pattern %q: %w", file, i+1, f[1], err)
		}
		c.allow = append(c.allow, allowEntry{pkg: f[0], test: f[1], reason: strings.Join(f[2:], " "), line: i + 1})
	}
	return nil
}

// allowed returns the reason a skip of id is allowed, "" if it is not.
func (c *Checker) allowed(id TestID) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(id.Pkg, c.module), "/")
	for _, e := range c.allow {
		if e.pkg != "*" && e.pkg != rel && e.pkg != id.Pkg {
			continue
		}
		if ok, _ := path.Match(e.test, id.Name); ok {
			return e.reason
		}
	}
	return ""
}

// knownTags are the build tags a test file may use besides c.Tag; anything
// else in a //go:build line of a test file is taken for a typo.
var knownTags = map[string]bool{
	"race": true, "cgo": true, "gc": true, "gccgo": true, "unix": true, "ignore": true,
	"linux": true, "windows": true, "darwin": true, "freebsd": true, "openbsd": true,
	"netbsd": true, "dragonfly": true, "solaris": true, "illumos": true, "aix": true,
	"android": true, "ios": true, "plan9": true, "js": true, "wasip1": true,
	"amd64": true, "arm64": true, "386": true, "arm": true, "riscv64": true,
	"ppc64": true, "ppc64le": true, "s390x": true, "loong64": true, "wasm": true,
	"mips": true, "mipsle": true, "mips64": true, "mips64le": true,
}

var goVersionTag = regexp.MustCompile(`^go1\.[0-9]+$`)

// Scan finds, below root, the test files built with c.Tag and not without
// it, and the tests they define. It records as problems the test files
// whose build line names an unknown tag, and the *_<tag>_test.go files that
// do not need the tag.
func (c *Checker) Scan(root string) error {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			c.module = f[1]
		}
	}
	if c.module == "" {
		return fmt.Errorf("no module line in %s", filepath.Join(root, "go.mod"))
	}
	with, without := build.Default, build.Default
	with.BuildTags = []string{c.Tag}
	without.BuildTags = nil
	c.expected = map[TestID]string{}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		expr := buildLine(src)
		if expr != nil {
			for _, t := range tags(expr) {
				if t != c.Tag && !knownTags[t] && !goVersionTag.MatchString(t) {
					c.problems = append(c.problems, fmt.Sprintf("%s: unknown build tag %q (mistyped?)", rel, t))
				}
			}
		}
		dir := filepath.Dir(p)
		in, err := with.MatchFile(dir, name)
		if err != nil {
			return err
		}
		out, err := without.MatchFile(dir, name)
		if err != nil {
			return err
		}
		tagged := in && !out
		if strings.HasSuffix(name, "_"+c.Tag+"_test.go") && !tagged && (expr == nil || !mentions(expr, c.Tag)) {
			c.problems = append(c.problems, fmt.Sprintf("%s: named like an %s test but not built only with -tags %s", rel, c.Tag, c.Tag))
		}
		if !tagged {
			return nil
		}
		c.files++
		pkg := c.module
		if d := filepath.ToSlash(filepath.Dir(rel)); d != "." {
			pkg += "/" + d
		}
		for _, t := range testFuncs(src) {
			c.expected[TestID{pkg, t}] = rel
		}
		return nil
	})
}

// buildLine returns the file's //go:build expression, nil if it has none.
func buildLine(src []byte) constraint.Expr {
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "package ") {
			return nil
		}
		if constraint.IsGoBuild(line) {
			if e, err := constraint.Parse(line); err == nil {
				return e
			}
		}
	}
	return nil
}

func tags(e constraint.Expr) []string {
	var out []string
	var walk func(constraint.Expr)
	walk = func(e constraint.Expr) {
		switch x := e.(type) {
		case *constraint.TagExpr:
			out = append(out, x.Tag)
		case *constraint.NotExpr:
			walk(x.X)
		case *constraint.AndExpr:
			walk(x.X)
			walk(x.Y)
		case *constraint.OrExpr:
			walk(x.X)
			walk(x.Y)
		}
	}
	walk(e)
	return out
}

func mentions(e constraint.Expr, tag string) bool {
	for _, t := range tags(e) {
		if t == tag {
			return true
		}
	}
	return false
}

// testFuncs lists the top-level functions `go test` runs as tests:
// TestXxx(t *testing.T), where Xxx does not start with a lower-case letter.
func testFuncs(src []byte) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil
	}
	var out []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || !isTestName(fn.Name.Name) {
			continue
		}
		if p := fn.Type.Params.List; len(p) != 1 || len(p[0].Names) > 1 || !isTestingT(p[0].Type) {
			continue
		}
		out = append(out, fn.Name.Name)
	}
	return out
}

func isTestName(name string) bool {
	if !strings.HasPrefix(name, "Test") {
		return false
	}
	if len(name) == 4 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(name[4:])
	return !unicode.IsLower(r)
}

func isTestingT(e ast.Expr) bool {
	star, ok := e.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "T"
}

// event is one line of `go test -json` (test2json) output.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// Read consumes a `go test -json` stream and writes what `go test` without
// -v would print: package lines, and the output of tests that failed or
// skipped. Lines that are not JSON (the go command's own errors) are
// copied as they are.
func (c *Checker) Read(r io.Reader, w io.Writer) error {
	c.ran = map[TestID]bool{}
	c.outputs = map[TestID]*bytes.Buffer{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		id := TestID{ev.Package, ev.Test}
		switch ev.Action {
		case "output", "build-output":
			if ev.Test == "" {
				if ev.Output != "PASS\n" { // -json implies -v, which prints it
					io.WriteString(w, ev.Output)
				}
				continue
			}
			b := c.outputs[id]
			if b == nil {
				b = &bytes.Buffer{}
				c.outputs[id] = b
			}
			b.WriteString(ev.Output)
		case "pass", "fail", "skip":
			if ev.Test == "" {
				continue
			}
			if ev.Action == "skip" {
				c.skipped = append(c.skipped, id)
			}
			if !strings.Contains(ev.Test, "/") {
				c.ran[id] = true // a skip is reported on its own
			}
			if ev.Action != "pass" {
				if b := c.outputs[id]; b != nil {
					w.Write(b.Bytes())
				}
			}
			delete(c.outputs, id)
		}
	}
	return sc.Err()
}

// Report writes the summary and returns the number of problems: scan
// problems, expected tests that did not run, skips not allowed.
func (c *Checker) Report(w io.Writer) int {
	var missing []string
	for id, file := range c.expected {
		if !c.ran[id] {
			missing = append(missing, fmt.Sprintf("%s (%s)", id, file))
		}
	}
	sort.Strings(missing)
	var bad, ok []string
	for _, id := range c.skipped {
		if reason := c.allowed(id); reason != "" {
			ok = append(ok, fmt.Sprintf("%s: %s", id, reason))
		} else {
			bad = append(bad, id.String())
		}
	}
	ran := 0
	for id := range c.expected {
		if c.ran[id] {
			ran++
		}
	}
	fmt.Fprintf(w, "integcheck: %d %s tests defined in %d files, %d reported; %d skips (%d allowed)\n",
		len(c.expected), c.Tag, c.files, ran, len(c.skipped), len(ok))
	for _, s := range ok {
		fmt.Fprintln(w, "integcheck: allowed skip:", s)
	}
	for _, p := range c.problems {
		fmt.Fprintln(w, "integcheck: FAIL:", p)
	}
	for _, m := range missing {
		fmt.Fprintln(w, "integcheck: FAIL: did not run:", m)
	}
	for _, s := range bad {
		fmt.Fprintln(w, "integcheck: FAIL: skipped (not in the allow-list):", s)
	}
	return len(c.problems) + len(missing) + len(bad)
}
