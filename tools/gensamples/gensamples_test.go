package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// built holds the programs this package's tests built, each once, in one
// temporary directory removed by TestMain.
var built struct {
	mu   sync.Mutex
	dir  string
	errs map[string]error
}

// program builds the program of s (once) and returns the directory it is in.
func program(t *testing.T, s sample) string {
	t.Helper()
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.dir == "" {
		if built.dir, err = os.MkdirTemp("", "gensamples-test-"); err != nil {
			t.Fatal(err)
		}
		built.errs = map[string]error{}
	}
	if s.Program == "" {
		return built.dir
	}
	err, ok := built.errs[s.Program]
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		err = buildProgram(ctx, root, built.dir, s)
		built.errs[s.Program] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return built.dir
}

// programFor builds the program only when the sample is its output.
func programFor(t *testing.T, s sample) string {
	t.Helper()
	if s.Render != nil {
		return ""
	}
	return program(t, s)
}

// sampleNamed returns the table entry of a file.
func sampleNamed(t *testing.T, file string) sample {
	t.Helper()
	for _, s := range allSamples() {
		if s.File == file {
			return s
		}
	}
	t.Fatalf("no sample %s in allSamples", file)
	return sample{}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// TestCommittedSamplesMatchCode fails when a sample in etc/freezer is not
// exactly what its program prints: an option was added, renamed or had its
// default or help changed without `go run ./tools/gensamples`.
func TestCommittedSamplesMatchCode(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range allSamples() {
		t.Run(s.File, func(t *testing.T) {
			got, err := render(context.Background(), programFor(t, s), s)
			if err != nil {
				t.Fatal(err)
			}
			committed, err := os.ReadFile(filepath.Join(root, "etc", "freezer", s.File))
			if err != nil {
				t.Fatalf("reading the committed sample (generate it with `go run ./tools/gensamples`): %v", err)
			}
			if !bytes.Equal(committed, got) {
				t.Errorf("etc/freezer/%s differs from `%s %s`; run `go run ./tools/gensamples`\n%s",
					s.File, s.Program, strings.Join(s.Args, " "), firstDifference(committed, got))
			}
		})
	}
}

// TestSamplesDocumentEveryOption checks the form operators rely on: every
// option of an INI sample is commented out (the file changes nothing when
// copied as is) and preceded by a help line.
func TestSamplesDocumentEveryOption(t *testing.T) {
	for _, s := range allSamples() {
		if !strings.HasSuffix(s.File, ".conf.sample") && !strings.HasSuffix(s.File, ".ini.sample") {
			continue
		}
		t.Run(s.File, func(t *testing.T) {
			out, err := render(context.Background(), programFor(t, s), s)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(out), "\n")
			options := 0
			for i, line := range lines {
				trimmed := strings.TrimSpace(line)
				if trimmed == "" || strings.HasPrefix(trimmed, "[") {
					continue
				}
				if !strings.HasPrefix(trimmed, "#") {
					t.Errorf("line %d is not commented out: %q", i+1, line)
					continue
				}
				body := strings.TrimSpace(strings.TrimPrefix(trimmed, "#"))
				if k, _, ok := strings.Cut(body, " = "); ok && !strings.Contains(k, " ") && optionLine(body) {
					options++
					if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
						t.Errorf("option on line %d has no help above it: %q", i+1, line)
					}
				}
			}
			if options == 0 {
				t.Errorf("no option found in %s", s.File)
			}
		})
	}
}

// optionLine tells "#name = value" apart from help text that contains " = ".
func optionLine(body string) bool {
	k, _, _ := strings.Cut(body, " = ")
	for _, r := range k {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return k != ""
}

// firstDifference shows the first differing line of two files.
func firstDifference(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("first difference at line %d:\n  committed: %s\n  code:      %s", i+1, x, y)
		}
	}
	return "files differ"
}
