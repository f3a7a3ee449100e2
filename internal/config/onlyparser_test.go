package config

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// argParsers are packages that parse command lines; only this package may
// do that, so every program's options come from a Schema.
var argParsers = []string{
	"flag",
	"github.com/spf13/pflag",
	"github.com/spf13/cobra",
	"github.com/urfave/cli",
	"github.com/alecthomas/kong",
	"github.com/alecthomas/kingpin",
	"gopkg.in/alecthomas/kingpin.v2",
	"github.com/jessevdk/go-flags",
	"github.com/peterbourgon/ff",
}

// TestOnlyConfigParsesCommandLines scans every non-test Go file of the
// module outside this package and fails on anything that parses a command
// line by itself: an import of an argument parser, a use of os.Args other
// than a main passing os.Args[1:] on, and a comparison with or switch case
// on an option-like literal ("--help", "-h", "--"), the mark of a
// hand-written parser.
func TestOnlyConfigParsesCommandLines(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	self := filepath.Join(root, "internal", "config")
	scanned := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			// Skip what the go command skips (testdata, names starting
			// with "." or "_"), vendored code, and build/, which holds
			// output: make run copies this very source tree there as
			// the data it backs up and restores.
			name := d.Name()
			if path == self || name == "testdata" || name == "vendor" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				path == filepath.Join(root, "build") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		for _, problem := range parsesCommandLine(t, path) {
			t.Errorf("%s: %s (use internal/config: Schema.ParseArgs or ParseCommandLine)", rel, problem)
		}
		scanned++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d files: is the module root right?", scanned)
	}
}

// parsesCommandLine returns what in the file at path looks like parsing a
// command line.
func parsesCommandLine(t *testing.T, path string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	var problems []string
	at := func(n ast.Node, format string, args ...any) {
		problems = append(problems, fset.Position(n.Pos()).String()+": "+fmt.Sprintf(format, args...))
	}
	osName := ""
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		for _, bad := range argParsers {
			if p == bad || strings.HasPrefix(p, bad+"/") {
				at(imp, "imports %s", p)
			}
		}
		if p == "os" {
			osName = "os"
			if imp.Name != nil {
				osName = imp.Name.Name
			}
		}
	}
	isMain := f.Name.Name == "main"
	// os.Args[1:] handed on by a main is allowed; every other os.Args is
	// reported (the allowed ones are remembered by position).
	passedOn := map[token.Pos]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SliceExpr:
			if isOSArgs(n.X, osName) && isMain && n.High == nil && isIntLit(n.Low, "1") {
				passedOn[n.X.Pos()] = true
			}
		case *ast.SelectorExpr:
			if isOSArgs(n, osName) && !passedOn[n.Pos()] {
				at(n, "reads os.Args")
			}
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				for _, side := range []ast.Expr{n.X, n.Y} {
					if s, ok := optionLiteral(side); ok {
						at(n, "compares with %q", s)
					}
				}
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				if s, ok := optionLiteral(e); ok {
					at(e, "switches on %q", s)
				}
			}
		}
		return true
	})
	return problems
}

func isOSArgs(e ast.Expr, osName string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || osName == "" || sel.Sel.Name != "Args" {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == osName
}

func isIntLit(e ast.Expr, v string) bool {
	l, ok := e.(*ast.BasicLit)
	return ok && l.Kind == token.INT && l.Value == v
}

func stringLit(e ast.Expr) (string, bool) {
	l, ok := e.(*ast.BasicLit)
	if !ok || l.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(l.Value)
	return s, err == nil
}

// optionLiteral reports a string literal spelled like a command-line
// option: "--" and "--x...", or "-x" with a letter. "-" alone (standard
// input or output) and negative numbers, including the spellings of negative
// infinity that formatters write ("-inf", "-Infinity"), are not options.
func optionLiteral(e ast.Expr) (string, bool) {
	s, ok := stringLit(e)
	if !ok || len(s) < 2 || s[0] != '-' {
		return "", false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return "", false
	}
	c := s[1]
	return s, c == '-' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// The scan finds what it is for: the hand-written parsers it replaced
// looked like this.
func TestOnlyConfigScanCanFail(t *testing.T) {
	src := `package main

import (
	"flag"
	myos "os"
)

func main() {
	_ = flag.Bool("x", false, "")
	args := myos.Args
	for _, a := range args[1:] {
		switch a {
		case "-h", "--help":
		}
		if a == "--" {
			break
		}
	}
	run(myos.Args[1:])
}

func run([]string) {}
`
	p := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(parsesCommandLine(t, p), "\n")
	for _, want := range []string{"imports flag", "reads os.Args", `switches on "-h"`, `switches on "--help"`, `compares with "--"`} {
		if !strings.Contains(got, want) {
			t.Errorf("scan missed %s; found:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "reads os.Args"); n != 1 {
		t.Errorf("os.Args[1:] passed on by main reported too:\n%s", got)
	}
}
