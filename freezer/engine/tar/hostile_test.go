//go:build unix

package tar

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"freezer.dev/freezer/freezer/backup"
)

// member is one entry of a hand-made archive.
type member struct {
	name, link string
	flag       byte
	data       string
	mode       int64
	uid, gid   int64
	uname      string
}

// craft builds an archive with our writer, which writes whatever names it
// is given: the hostile cases below are what a malicious archive holds.
func craft(t *testing.T, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newBlockWriter(&buf, 64<<10)
	for _, m := range ms {
		if m.flag == 0 {
			m.flag = typeReg
		}
		if m.mode == 0 {
			m.mode = 0o644
		}
		if m.uname == "" && m.uid == 0 {
			m.uname = "root"
		}
		h := header{name: m.name, linkname: m.link, typeflag: m.flag, mode: m.mode, size: int64(len(m.data)), mtime: 1600000000, uid: m.uid, gid: m.gid, uname: m.uname, gname: m.uname}
		if m.flag == typeSymlink || m.flag == typeLink {
			h.size = 0
		}
		must(t, w.writeHeader(&h))
		if h.size > 0 {
			must(t, w.writeData([]byte(m.data)))
		}
	}
	must(t, w.finish())
	return buf.Bytes()
}

// sandbox returns a target directory inside an outer directory that holds
// a file we watch, so that anything escaping the target shows.
func sandbox(t *testing.T) (outer, target string) {
	t.Helper()
	outer = t.TempDir()
	target = filepath.Join(outer, "target")
	must(t, os.Mkdir(target, 0o755))
	mustWrite(t, filepath.Join(outer, "precious"), "do not touch", 0o644)
	mustWrite(t, filepath.Join(outer, "dir", "inner"), "inner", 0o644)
	return outer, target
}

// requireOuterUntouched fails if anything beside the target changed.
func requireOuterUntouched(t *testing.T, outer string) {
	t.Helper()
	ents, err := os.ReadDir(outer)
	must(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "dir precious target" {
		t.Errorf("outer directory now holds %q", names)
	}
	for p, want := range map[string]string{"precious": "do not touch", "dir/inner": "inner"} {
		got, err := os.ReadFile(filepath.Join(outer, p))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", p, got, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(outer, "dir")); len(ents) != 1 {
		t.Errorf("outer/dir holds %d entries", len(ents))
	}
}

func restoreErr(e *Engine, dir string, archive []byte) error {
	_, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: dir}, bytes.NewReader(archive))
	return err
}

func TestHostileArchivesAreRejected(t *testing.T) {
	cases := []struct {
		name string
		// levels are applied in order; all but the last must succeed.
		levels func(outer string) [][]member
	}{
		{"dotdot", func(string) [][]member { return [][]member{{{name: "../precious", data: "pwned"}}} }},
		{"dotdot inside", func(string) [][]member { return [][]member{{{name: "./a/../../dir/inner", data: "pwned"}}} }},
		{"absolute", func(o string) [][]member { return [][]member{{{name: filepath.Join(o, "precious"), data: "pwned"}}} }},
		{"symlink then write through it", func(o string) [][]member {
			return [][]member{{{name: "./sl", flag: typeSymlink, link: o}, {name: "./sl/precious", data: "pwned"}}}
		}},
		{"relative symlink then write through it", func(string) [][]member {
			return [][]member{{{name: "./sl", flag: typeSymlink, link: ".."}, {name: "./sl/precious", data: "pwned"}}}
		}},
		{"symlink then mkdir through it", func(o string) [][]member {
			return [][]member{{{name: "./sl", flag: typeSymlink, link: o}, {name: "./sl/newdir/", flag: typeDir, mode: 0o755}}}
		}},
		{"symlink from an earlier level", func(o string) [][]member {
			return [][]member{
				{{name: "./sl", flag: typeSymlink, link: filepath.Join(o, "dir")}},
				{{name: "./sl/inner", data: "pwned"}},
			}
		}},
		{"symlink then symlink through it", func(o string) [][]member {
			return [][]member{{{name: "./sl", flag: typeSymlink, link: o}, {name: "./sl/precious", flag: typeSymlink, link: "/etc/passwd"}}}
		}},
		{"hard link out of the target", func(string) [][]member {
			return [][]member{{{name: "./hl", flag: typeLink, link: "../precious"}}}
		}},
		{"hard link to an absolute path", func(o string) [][]member {
			return [][]member{{{name: "./hl", flag: typeLink, link: filepath.Join(o, "precious")}}}
		}},
		{"hard link through a symlink", func(o string) [][]member {
			return [][]member{{{name: "./sl", flag: typeSymlink, link: o}, {name: "./hl", flag: typeLink, link: "./sl/precious"}}}
		}},
		{"rename out of the target", func(string) [][]member {
			return [][]member{{{name: "./d/", flag: typeDir}, {name: "./", flag: typeDumpDir, data: "Dd\x00R./d\x00T../escaped\x00\x00"}}}
		}},
		{"rename through a symlink", func(o string) [][]member {
			return [][]member{{{name: "./sl", flag: typeSymlink, link: o}, {name: "./", flag: typeDumpDir, data: "R./sl/dir\x00T./stolen\x00\x00"}}}
		}},
		{"file replacing the target itself", func(string) [][]member { return [][]member{{{name: "./", data: "x"}}} }},
		{"malformed dumpdir", func(string) [][]member {
			return [][]member{{{name: "./", flag: typeDumpDir, data: "R./a\x00\x00"}}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			outer, target := sandbox(t)
			levels := tc.levels(outer)
			e := New(Options{})
			for i, ms := range levels {
				err := restoreErr(e, target, craft(t, ms...))
				if i < len(levels)-1 {
					if err != nil {
						t.Fatalf("level %d: %v", i, err)
					}
					continue
				}
				if err == nil {
					t.Fatal("hostile archive restored without error")
				}
				t.Logf("error (as wanted): %v", err)
			}
			requireOuterUntouched(t, outer)
		})
	}
}

func TestUnsafePathErrorIsMarked(t *testing.T) {
	_, target := sandbox(t)
	err := restoreErr(New(Options{}), target, craft(t, member{name: "../x", data: "x"}))
	if !errors.Is(err, backup.ErrUnsafePath) {
		t.Fatalf("error %v does not wrap ErrUnsafePath", err)
	}
}

// Writing a member over an existing symlink replaces the link and never
// writes through it, and a dumpdir of a path that is a symlink never
// purges the directory it points to.
func TestOverwriteReplacesSymlinksAndNeverPurgesThroughThem(t *testing.T) {
	outer, target := sandbox(t)
	must(t, os.Symlink(filepath.Join(outer, "precious"), filepath.Join(target, "f")))
	must(t, os.Symlink(filepath.Join(outer, "dir"), filepath.Join(target, "d")))
	e := New(Options{})
	arc := craft(t,
		member{name: "./", flag: typeDumpDir, data: "Dd\x00Yf\x00\x00"},
		member{name: "./d/", flag: typeDumpDir, data: "\x00"},
		member{name: "./f", data: "new content"},
	)
	if err := restoreErr(e, target, arc); err != nil {
		t.Fatal(err)
	}
	requireOuterUntouched(t, outer)
	fi, err := os.Lstat(filepath.Join(target, "d"))
	if err != nil || !fi.IsDir() {
		t.Errorf("d is not a real directory now: %v %v", fi, err)
	}
	got, _ := os.ReadFile(filepath.Join(target, "f"))
	if string(got) != "new content" {
		t.Errorf("f = %q", got)
	}
}

// A directory member where the target holds a file or a symlink replaces
// it with a real directory, and its members go inside, never through the
// link; a directory that is there already is kept with what it holds.
func TestDirectoryMemberReplacesFileAndSymlink(t *testing.T) {
	outer, target := sandbox(t)
	mustWrite(t, filepath.Join(target, "f"), "a file", 0o644)
	must(t, os.Symlink(filepath.Join(outer, "dir"), filepath.Join(target, "s")))
	mustWrite(t, filepath.Join(target, "d", "old"), "kept", 0o644)
	arc := craft(t,
		member{name: "./f/", flag: typeDir, mode: 0o755},
		member{name: "./f/in", data: "f in"},
		member{name: "./s/", flag: typeDir, mode: 0o755},
		member{name: "./s/in", data: "s in"},
		member{name: "./d/", flag: typeDir, mode: 0o755},
		member{name: "./d/in", data: "d in"},
	)
	if err := restoreErr(New(Options{}), target, arc); err != nil {
		t.Fatal(err)
	}
	requireOuterUntouched(t, outer)
	for _, d := range []string{"f", "s", "d"} {
		fi, err := os.Lstat(filepath.Join(target, d))
		if err != nil || !fi.IsDir() {
			t.Errorf("%s is not a real directory: %v %v", d, fi, err)
			continue
		}
		if got, err := os.ReadFile(filepath.Join(target, d, "in")); err != nil || string(got) != d+" in" {
			t.Errorf("%s/in = %q, %v", d, got, err)
		}
	}
	if got, err := os.ReadFile(filepath.Join(target, "d", "old")); err != nil || string(got) != "kept" {
		t.Errorf("d/old = %q, %v", got, err)
	}
}

// A dumpdir naming "../x" cannot make the purge look outside.
func TestDumpdirNamesCannotEscape(t *testing.T) {
	outer, target := sandbox(t)
	mustWrite(t, filepath.Join(target, "keep"), "k", 0o644)
	arc := craft(t, member{name: "./", flag: typeDumpDir, data: "Nkeep\x00N../precious\x00D../dir\x00\x00"})
	if err := restoreErr(New(Options{}), target, arc); err != nil {
		t.Fatal(err)
	}
	requireOuterUntouched(t, outer)
	if _, err := os.Stat(filepath.Join(target, "keep")); err != nil {
		t.Error(err)
	}
}

func TestTruncatedAndCorruptArchives(t *testing.T) {
	src := t.TempDir()
	buildTree(t, src)
	e := New(Options{})
	l0 := runBackup(t, e, src, nil)
	arc := l0.archive
	// The end of the data: the end-of-archive blocks start after it.
	end := len(arc)
	for end > 0 && arc[end-1] == 0 {
		end--
	}
	end = (end + blockSize - 1) / blockSize * blockSize
	cuts := []int{0, 100, blockSize, blockSize + 7, len(arc) / 3, len(arc) / 2, end - blockSize, end}
	for _, cut := range cuts {
		outer, target := sandbox(t)
		err := restoreErr(e, target, arc[:cut])
		if !errors.Is(err, backup.ErrCorrupt) {
			t.Errorf("archive cut at %d of %d: err = %v, want ErrCorrupt", cut, len(arc), err)
		}
		requireOuterUntouched(t, outer)
	}
	// A bit flip in any header is caught by the header checksum.
	for _, off := range []int{3, 100, 130, 156, 300} {
		bad := bytes.Clone(arc)
		bad[off] ^= 0x10
		outer, target := sandbox(t)
		if err := restoreErr(e, target, bad); !errors.Is(err, backup.ErrCorrupt) {
			t.Errorf("header bit flip at %d: err = %v, want ErrCorrupt", off, err)
		}
		requireOuterUntouched(t, outer)
	}
	// A failing input is not a corrupt archive, wherever it fails.
	for _, cut := range []int{0, 100, blockSize + 7, len(arc) / 2} {
		_, target := sandbox(t)
		in := io.MultiReader(bytes.NewReader(arc[:cut]), iotest.ErrReader(errInput))
		_, err := e.Restore(context.Background(), backup.RestoreRequest{Dir: target}, in)
		if !errors.Is(err, errInput) || errors.Is(err, backup.ErrCorrupt) {
			t.Errorf("input failing at %d: err = %v, want the input's error and not ErrCorrupt", cut, err)
		}
	}
}

var errInput = errors.New("input failed")
