package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const tagged = `//go:build integration

package a

import "testing"

func TestA(t *testing.T)        {}
func TestB(t *testing.T)        {}
func Testlower(t *testing.T)    {} // not a test for go test
func TestHelper(x int)          {}
func BenchmarkA(b *testing.B)   {}
`

func module(t *testing.T, extra map[string]string) string {
	files := map[string]string{
		"go.mod":                           "module example.com/m\n\ngo 1.26\n",
		"a/a_integration_test.go":          tagged,
		"a/unit_test.go":                   "package a\n\nimport \"testing\"\n\nfunc TestUnit(t *testing.T) {}\n",
		"a/not_test.go":                    "//go:build !integration\n\npackage a\n\nimport \"testing\"\n\nfunc TestOnlyUnit(t *testing.T) {}\n",
		"testdata/x/x_integration_test.go": "//go:build integraton\n\npackage x\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	return writeFiles(t, files)
}

func check(t *testing.T, root, allow, stream string) (int, string) {
	t.Helper()
	c := &Checker{Tag: "integration"}
	if allow != "" {
		p := filepath.Join(t.TempDir(), "allow.txt")
		os.WriteFile(p, []byte(allow), 0o644)
		if err := c.LoadAllowList(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Scan(root); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := c.Read(strings.NewReader(stream), &out); err != nil {
		t.Fatal(err)
	}
	n := c.Report(&out)
	return n, out.String()
}

const allRan = `{"Action":"run","Package":"example.com/m/a","Test":"TestA"}
{"Action":"output","Package":"example.com/m/a","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"example.com/m/a","Test":"TestA"}
{"Action":"pass","Package":"example.com/m/a","Test":"TestB"}
{"Action":"pass","Package":"example.com/m/a","Test":"TestUnit"}
{"Action":"output","Package":"example.com/m/a","Output":"ok  \texample.com/m/a\t0.1s\n"}
{"Action":"pass","Package":"example.com/m/a"}
`

func TestCompleteRunPasses(t *testing.T) {
	n, out := check(t, module(t, nil), "", allRan)
	if n != 0 {
		t.Fatalf("%d problems:\n%s", n, out)
	}
	if !strings.Contains(out, "2 integration tests defined in 1 files, 2 reported") {
		t.Errorf("summary:\n%s", out)
	}
	if strings.Contains(out, "=== RUN") || !strings.Contains(out, "ok  \texample.com/m/a") {
		t.Errorf("want package lines only for passing tests:\n%s", out)
	}
}

func TestMissingTestFails(t *testing.T) {
	stream := strings.Replace(allRan, `{"Action":"pass","Package":"example.com/m/a","Test":"TestB"}`+"\n", "", 1)
	n, out := check(t, module(t, nil), "", stream)
	if n != 1 || !strings.Contains(out, "did not run: example.com/m/a TestB (a/a_integration_test.go)") {
		t.Fatalf("%d problems:\n%s", n, out)
	}
}

func TestSkipFailsUnlessAllowed(t *testing.T) {
	stream := allRan + `{"Action":"output","Package":"example.com/m/a","Test":"TestA/sub","Output":"    x_test.go:9: no server\n"}
{"Action":"skip","Package":"example.com/m/a","Test":"TestA/sub"}
{"Action":"skip","Package":"example.com/m/b"}
`
	n, out := check(t, module(t, nil), "", stream)
	if n != 1 || !strings.Contains(out, "skipped (not in the allow-list): example.com/m/a TestA/sub") || !strings.Contains(out, "no server") {
		t.Fatalf("%d problems:\n%s", n, out)
	}
	n, out = check(t, module(t, nil), "# comment\na TestA/* the server is optional\n", stream)
	if n != 0 || !strings.Contains(out, "allowed skip: example.com/m/a TestA/sub: the server is optional") {
		t.Fatalf("%d problems:\n%s", n, out)
	}
	n, _ = check(t, module(t, nil), "* TestA/* any package\n", stream)
	if n != 0 {
		t.Fatalf("* did not match any package")
	}
	n, _ = check(t, module(t, nil), "b TestA/* another package\n", stream)
	if n != 1 {
		t.Fatalf("an entry for another package allowed the skip")
	}
}

func TestMistypedTagFails(t *testing.T) {
	root := module(t, map[string]string{
		"b/b_integration_test.go": "//go:build integraton\n\npackage b\n\nimport \"testing\"\n\nfunc TestB(t *testing.T) {}\n",
		"c/c_integration_test.go": "package c\n\nimport \"testing\"\n\nfunc TestC(t *testing.T) {}\n",
	})
	n, out := check(t, root, "", allRan)
	if n != 3 || !strings.Contains(out, `b/b_integration_test.go: unknown build tag "integraton"`) ||
		!strings.Contains(out, "b/b_integration_test.go: named like an integration test") ||
		!strings.Contains(out, "c/c_integration_test.go: named like an integration test") {
		t.Fatalf("%d problems:\n%s", n, out)
	}
}

func TestBadAllowList(t *testing.T) {
	p := filepath.Join(t.TempDir(), "allow.txt")
	os.WriteFile(p, []byte("a TestA\n"), 0o644)
	if err := (&Checker{}).LoadAllowList(p); err == nil {
		t.Fatal("an entry without a reason was accepted")
	}
}

func TestNonJSONLinesPassThrough(t *testing.T) {
	n, out := check(t, module(t, nil), "", "go: downloading x v1\n"+allRan)
	if n != 0 || !strings.HasPrefix(out, "go: downloading x v1\n") {
		t.Fatalf("%d problems:\n%s", n, out)
	}
}
