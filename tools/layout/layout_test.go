package layout

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "freezer.dev/freezer/"

// goList runs `go list args...` at the module root and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// importChain returns the shortest chain of imports from root to a
// package for which bad is true, or nil when there is none.
func importChain(imports map[string][]string, root string, bad func(string) bool) []string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if bad(p) {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		for _, q := range imports[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return nil
}

// implementation reports the packages that package agent must not reach:
// engines, codecs, storages and the other programs. They are wired in by
// package cli, which may import anything.
func implementation(p string) bool {
	for _, prefix := range []string{"freezer/engine", "freezer/codec", "freezer/storage", "freezer_api", "freezer_scheduler"} {
		if p == module+prefix || strings.HasPrefix(p, module+prefix+"/") {
			return true
		}
	}
	return false
}

func TestImportChain(t *testing.T) {
	g := map[string][]string{"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": {"e"}}
	if got := importChain(g, "a", func(p string) bool { return p == "e" }); !slices.Equal(got, []string{"a", "b", "d", "e"}) {
		t.Errorf("chain to e: %q", got)
	}
	if got := importChain(g, "a", func(p string) bool { return p == "x" }); got != nil {
		t.Errorf("chain to a missing package: %q", got)
	}
	if !implementation(module+"freezer/engine/tar") || !implementation(module+"freezer/codec") ||
		implementation(module+"freezer/backup") || implementation(module+"freezer/codecs") {
		t.Error("implementation misclassifies")
	}
}

// TestAgentImportsNoImplementation: package agent's non-test imports,
// direct or not, hold no engine (freezer/engine/tar), codec package or
// storage, as its package doc says.
func TestAgentImportsNoImplementation(t *testing.T) {
	imports := map[string][]string{}
	for _, l := range goList(t, "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./freezer/agent") {
		f := strings.Fields(l)
		imports[f[0]] = f[1:]
	}
	if _, ok := imports[module+"freezer/backup"]; !ok {
		t.Fatalf("go list -deps ./freezer/agent does not list freezer/backup: %d packages", len(imports))
	}
	if chain := importChain(imports, module+"freezer/agent", implementation); chain != nil {
		t.Errorf("freezer/agent depends on an implementation: %s", strings.Join(chain, " → "))
	}
}

// programs are the only package main allowed in the product folders.
var programs = []string{
	"freezer/cmd/freezer-agent",
	"freezer_api/cmd/freezer", // the command-line client
	"freezer_api/cmd/freezer-api",
	"freezer_api/cmd/freezer-manage",
	"freezer_scheduler/cmd/freezer-scheduler",
}

// toolName matches the path elements of benchmarks and load generators.
var toolName = regexp.MustCompile(`bench|load(poll|gen|test)|stress`)

// TestProductFoldersHoldOnlyPrograms: every package main under freezer/,
// freezer_api/ and freezer_scheduler/ is one of the shipped programs, and
// no package there is named like a benchmark or load tool.
func TestProductFoldersHoldOnlyPrograms(t *testing.T) {
	var mains []string
	lines := goList(t, "-f", "{{.ImportPath}} {{.Name}}", "./freezer/...", "./freezer_api/...", "./freezer_scheduler/...")
	for _, l := range lines {
		path, name, _ := strings.Cut(l, " ")
		rel := strings.TrimPrefix(path, module)
		if name == "main" {
			mains = append(mains, rel)
			if !slices.Contains(programs, rel) {
				t.Errorf("%s is a package main in a product folder but not one of the programs %q; tools go under tools/", rel, programs)
			}
		}
		for el := range strings.SplitSeq(rel, "/") {
			if toolName.MatchString(el) {
				t.Errorf("%s looks like a benchmark or load tool (%q); it belongs under tools/", rel, el)
			}
		}
	}
	slices.Sort(mains)
	if !slices.Equal(mains, programs) {
		t.Errorf("programs found: %q, want %q", mains, programs)
	}
}

// TestMakefileBuildsTheTools: each directory of the Makefile's TOOLS list
// is a package main under tools/, so `make build` (and so `make bench`)
// builds it.
func TestMakefileBuildsTheTools(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TOOLS :=(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile has no TOOLS := line")
	}
	tools := strings.Fields(string(m[1]))
	for _, want := range []string{"tools/bench/freezer-api-bench", "tools/loadpoll/cmd/freezer-loadpoll"} {
		if !slices.Contains(tools, want) {
			t.Errorf("TOOLS %q lacks %s", tools, want)
		}
	}
	args := []string{"-f", "{{.ImportPath}} {{.Name}}"}
	for _, d := range tools {
		args = append(args, "./"+d)
	}
	for _, l := range goList(t, args...) {
		path, name, _ := strings.Cut(l, " ")
		if name != "main" || !strings.HasPrefix(path, module+"tools/") {
			t.Errorf("TOOLS entry %s is package %s, want a package main under tools/", path, name)
		}
	}
}
