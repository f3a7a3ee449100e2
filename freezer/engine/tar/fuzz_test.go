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
	seeds = append(seeds, out.Bytes())
	// Small inputs keep the fuzzer's minimization fast: drop the record
	// padding after the end-of-archive blocks.
	for i, s := range seeds {
		end := len(s)
		for end > 0 && s[end-1] == 0 {
			end--
		}
		end = (end+blockSize-1)/blockSize*blockSize + 2*blockSize
		seeds[i] = s[:min(end, len(s))]
	}
	return seeds
}

// fuzzSandbox is sandbox for fuzz targets: the outer directory is made
// once and each input gets a fresh target inside it.
type fuzzSandbox struct{ outer string }

func newFuzzSandbox(f *testing.F) *fuzzSandbox {
	outer := f.TempDir()
	if err := os.WriteFile(filepath.Join(outer, "precious"), []byte("do not touch"), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(outer, "dir"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outer, "dir", "inner"), []byte("inner"), 0o644); err != nil {
		f.Fatal(err)
	}
	return &fuzzSandbox{outer: outer}
}

// run calls fn with a fresh target and then checks the outer directory.
func (s *fuzzSandbox) run(t *testing.T, fn func(target string)) {
	target, err := os.MkdirTemp(s.outer, "target")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(target)
	fn(target)
	ents, err := os.ReadDir(s.outer)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if n := e.Name(); n != "dir" && n != "precious" && !strings.HasPrefix(n, "target") {
			t.Fatalf("restore created %q outside the target", n)
		}
	}
	for p, want := range map[string]string{"precious": "do not touch", "dir/inner": "inner"} {
		got, err := os.ReadFile(filepath.Join(s.outer, p))
		if err != nil || string(got) != want {
			t.Fatalf("%s outside the target changed: %q, %v", p, got, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(s.outer, "dir")); len(ents) != 1 {
		t.Fatalf("outer dir now holds %d entries", len(ents))
	}
}

// FuzzRestore feeds arbitrary streams to Restore and DryRun: they must
// fail or succeed without panicking and never touch anything outside the
// target directory.
func FuzzRestore(f *testing.F) {
	for _, s := range seedArchives(f) {
		f.Add(s)
	}
	e := New(Options{BufferSize: 64 << 10})
	sb := newFuzzSandbox(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		e.Restore(context.Background(), backup.RestoreRequest{DryRun: true, List: io.Discard}, bytes.NewReader(data))
		sb.run(t, func(target string) {
			e.Restore(context.Background(), backup.RestoreRequest{Dir: target}, bytes.NewReader(data))
		})
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
	sb := newFuzzSandbox(f)
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
		arc := craft(t, ms...)
		sb.run(t, func(target string) {
			// Twice: the second pass meets what the first one created.
			e.Restore(context.Background(), backup.RestoreRequest{Dir: target}, bytes.NewReader(arc))
			e.Restore(context.Background(), backup.RestoreRequest{Dir: target}, bytes.NewReader(arc))
		})
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
		// (an empty one means "nothing known": a full backup)
		var out, state bytes.Buffer
		if _, err := e.Backup(context.Background(), backup.BackupRequest{Path: src, PrevState: bytes.NewReader(data), State: &state}, &out); err != nil {
			t.Fatalf("backup with a snapshot that parsed: %v", err)
		}
		if _, err := readSnapshot(&state); err != nil {
			t.Fatalf("our own snapshot does not parse: %v", err)
		}
		// Whatever the previous state said, the level restores.
		if _, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: t.TempDir()}, &out); err != nil {
			t.Fatalf("level made from this snapshot does not restore: %v", err)
		}
	})
}
