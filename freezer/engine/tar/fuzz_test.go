//go:build unix

package tar

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

func seedArchives(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	for _, name := range []string{"gnu-level0.tar", "gnu-level1.tar"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	src := f.TempDir()
	os.MkdirAll(filepath.Join(src, "d", "e"), 0o755)
	os.WriteFile(filepath.Join(src, "d", "f"), []byte("content"), 0o644)
	os.WriteFile(filepath.Join(src, strings.Repeat("n", 120)), []byte("long"), 0o644)
	os.Symlink("d/f", filepath.Join(src, "s"))
	os.Link(filepath.Join(src, "d", "f"), filepath.Join(src, "h"))
	var out, state bytes.Buffer
	if _, err := New(Options{}).Backup(context.Background(), backup.BackupRequest{Path: src, State: &state}, &out); err != nil {
		f.Fatal(err)
	}
	return append(seeds, out.Bytes())
}

// FuzzRestore feeds arbitrary streams to Restore and DryRun: they must
// fail or succeed without panicking and never touch anything outside the
// target directory.
func FuzzRestore(f *testing.F) {
	for _, s := range seedArchives(f) {
		f.Add(s)
	}
	e := New(Options{BufferSize: 64 << 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		outer, target := sandbox(t)
		e.Restore(context.Background(), backup.RestoreRequest{Dir: target}, bytes.NewReader(data))
		e.Restore(context.Background(), backup.RestoreRequest{Dir: target, DryRun: true, List: io.Discard}, bytes.NewReader(data))
		requireOuterUntouched(t, outer)
	})
}

// FuzzMembers builds well-formed archives from fuzzed member lists, so the
// fuzzer explores names, link targets, dumpdirs and renames rather than
// header checksums. Each line is: type byte, name, 0x01, link, 0x01, data.
func FuzzMembers(f *testing.F) {
	f.Add("Dd/\x01\x01\x00\n2d/s\x01..\x01\n0d/s/x\x01\x01data")
	f.Add("D./\x01\x01Dd\x00R./d\x00T./e\x00\x00\n5d\x01\x01\n")
	f.Add("0a\x01\x01x\n1b\x01a\x01\n2c\x01/etc\x01\n0c/x\x01\x01y")
	f.Add("D./\x01\x01X.\x00R./a\x00T\x00R./b\x00T./a\x00R\x00T./b\x00\x00\n")
	e := New(Options{BufferSize: 64 << 10})
	f.Fuzz(func(t *testing.T, spec string) {
		var ms []member
		for line := range strings.SplitSeq(spec, "\n") {
			if line == "" {
				continue
			}
			parts := strings.SplitN(line[1:], "\x01", 3)
			for len(parts) < 3 {
				parts = append(parts, "")
			}
			ms = append(ms, member{flag: line[0], name: parts[0], link: parts[1], data: parts[2], mode: 0o755})
		}
		outer, target := sandbox(t)
		arc := craft(t, ms...)
		// Twice: the second pass meets what the first one created.
		e.Restore(context.Background(), backup.RestoreRequest{Dir: target}, bytes.NewReader(arc))
		e.Restore(context.Background(), backup.RestoreRequest{Dir: target}, bytes.NewReader(arc))
		requireOuterUntouched(t, outer)
	})
}

// FuzzSnapshot parses arbitrary snapshot files; one that parses must be
// usable as the previous state of a backup.
func FuzzSnapshot(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "gnu-level1.snar"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(snapshotMagic + "1\x000\x00"))
	src := f.TempDir()
	os.MkdirAll(filepath.Join(src, "docs", "new"), 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("a"), 0o644)
	e := New(Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := readSnapshot(bytes.NewReader(data)); err != nil {
			return
		}
		var out, state bytes.Buffer
		if _, err := e.Backup(context.Background(), backup.BackupRequest{Path: src, PrevState: bytes.NewReader(data), State: &state}, &out); err != nil {
			t.Fatalf("backup with a snapshot that parsed: %v", err)
		}
		if _, err := readSnapshot(&state); err != nil {
			t.Fatalf("our own snapshot does not parse: %v", err)
		}
	})
}

// FuzzExclude checks the wildcard matcher never panics and that a
// pattern without wildcards matches exactly itself.
func FuzzExclude(f *testing.F) {
	f.Add("*.log", "./a/b.log")
	f.Add("[a-c]?\\*", "b1*")
	f.Add("[!x", "[!x")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		fnmatch(pattern, name)
		if ex, err := newExcluder([]string{pattern}); err == nil {
			ex.match(name)
		}
		if !strings.ContainsAny(name, "*?[\\") && !fnmatch(name, name) {
			t.Fatalf("literal %q does not match itself", name)
		}
	})
}
