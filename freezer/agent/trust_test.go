package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/codec"
	"freezer.dev/freezer/freezer/storage"
)

// cheapCodecs are the real codecs with a cheap fzae1 key derivation and
// 4 KiB chunks, so that damage lands inside a file, not at its end.
type cheapCodecs struct{ realCodecs }

func (cheapCodecs) Cipher(format string, pass []byte, compression string) (backup.Codec, error) {
	return codec.NewEncryption(format, pass, compression, codec.EncryptOptions{
		KDF: codec.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}, ChunkSizeLog2: 12})
}

// trustState is a tree: path → content (symbolic links as "->target").
type trustState map[string]string

func noise(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

var (
	trustState0 = trustState{
		"a":         "alpha",
		"big":       noise(1, 150<<10),
		"dir/c":     noise(2, 20<<10),
		"dir/gone":  "deleted at level 1",
		"mid":       noise(3, 60<<10),
		"dir/sl":    "->../a",
		"z/last":    noise(4, 90<<10),
		"z/small":   "small",
		"z/replace": "level 0",
	}
	trustState1 = trustState{
		"a":         "alpha",
		"big":       noise(5, 150<<10),
		"dir/c":     noise(6, 20<<10),
		"mid":       noise(3, 60<<10),
		"dir/sl":    "->../z/small",
		"n1":        noise(7, 100<<10),
		"z/last":    noise(8, 90<<10),
		"z/small":   "small",
		"z/replace": "level 1, longer than before",
	}
)

func writeState(t *testing.T, dir string, s trustState) {
	t.Helper()
	// Remove what the state does not hold, as a user's changes would.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if _, ok := s[filepath.ToSlash(rel)]; !ok {
			os.Remove(p)
		}
		return nil
	})
	for rel, c := range s {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		var err error
		if target, ok := strings.CutPrefix(c, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(c), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// readState reads dir back as a trustState.
func readState(t *testing.T, dir string) trustState {
	t.Helper()
	s := trustState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			s[rel] = "->" + target
			return err
		}
		b, err := os.ReadFile(p)
		s[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkTrusted fails unless every entry of got holds the content one of
// the verified states gives its path.
func checkTrusted(t *testing.T, got trustState, states ...trustState) {
	t.Helper()
	for rel, c := range got {
		ok := false
		for _, s := range states {
			if want, in := s[rel]; in && want == c {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s holds %d bytes that no verified state has there (%.40q)", rel, len(c), c)
		}
	}
}

// damage is what a storage may do to a stored payload.
type damage struct {
	name string
	edit func([]byte) []byte
}

func trustDamages() []damage {
	var ds []damage
	for _, f := range []float64{0.02, 0.5, 0.97} {
		ds = append(ds, damage{fmt.Sprintf("flip@%.2f", f), func(b []byte) []byte {
			b = bytes.Clone(b)
			b[int(f*float64(len(b)-1))] ^= 0x10
			return b
		}})
	}
	for _, f := range []float64{0.3, 0.7, 0.999} {
		ds = append(ds, damage{fmt.Sprintf("cut@%.3f", f), func(b []byte) []byte {
			return bytes.Clone(b[:int(f*float64(len(b)))])
		}})
	}
	for _, f := range []float64{0.1, 0.6} {
		// A Swift DLO manifest concatenates the segments there are: a
		// lost segment takes a slice out of the middle.
		ds = append(ds, damage{fmt.Sprintf("missing-segment@%.1f", f), func(b []byte) []byte {
			i := int(f * float64(len(b)))
			n := min(8<<10, len(b)/5)
			return append(bytes.Clone(b[:i]), b[i+n:]...)
		}})
	}
	return ds
}

// TestDamagedRestoreLeavesNoDamagedFile: for every compression and
// encryption format, damage at several offsets of either level of a chain
// makes the restore an integrity error that names what was not restored,
// and leaves every file in the target with content from a verified level
// (the one before, or the damaged level's own when its bytes were
// authenticated before it was written), or absent; never damaged, never a
// temporary left behind.
func TestDamagedRestoreLeavesNoDamagedFile(t *testing.T) {
	if testing.Short() {
		t.Skip("210 restores")
	}
	passFile := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(passFile, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, comp := range []string{"none", "gzip", "bzip2", "xz", "zstd"} {
		for _, enc := range []string{"", "openssl", "fzae1"} {
			// The race detector makes the whole matrix take more than
			// ten minutes on a small machine; one format per encryption
			// keeps every code path under it.
			if raceEnabled && !slices.Contains([]string{"none+", "gzip+openssl", "zstd+fzae1"}, comp+"+"+enc) {
				continue
			}
			t.Run(comp+"+"+cmp(enc, "plain"), func(t *testing.T) {
				a, _ := newTestAgent(t)
				a.Codecs = cheapCodecs{}
				a.ChunkSize = 16 << 10
				src := t.TempDir()
				bo := backupOpts(src)
				bo.Compression = comp
				if enc != "" {
					bo.EncryptPassFile, bo.EncryptionFormat = passFile, enc
				}
				writeState(t, src, trustState0)
				if _, err := a.Run(context.Background(), bo); err != nil {
					t.Fatal(err)
				}
				writeState(t, src, trustState1)
				if _, err := a.Run(context.Background(), bo); err != nil {
					t.Fatal(err)
				}
				refs := committed(t, a)
				if len(refs) != 2 {
					t.Fatalf("%d backups, want 2", len(refs))
				}
				ro := restoreOpts("")
				ro.EncryptPassFile = passFile
				ro.Overwrite = true
				checkDamagedRestores(t, a, ro, refs, enc, trustState1, ".freezer-tar-stage.")
				// Undamaged, verify passes and the same chain restores
				// exactly.
				vo := ro
				vo.Action, vo.VerifyReadData = ActionVerify, true
				res, err := a.Run(context.Background(), vo)
				if err != nil || len(res.Verified) != 2 || !res.Verified[0].OK || !res.Verified[1].OK {
					t.Fatalf("verify of the undamaged chain: %v, %+v", err, res)
				}
				dst := t.TempDir()
				ro.RestoreAbsPath = dst
				if _, err := a.Run(context.Background(), ro); err != nil {
					t.Fatal(err)
				}
				if got := readState(t, dst); !equalStates(got, trustState1) {
					t.Errorf("undamaged restore differs from the source")
				}
			})
		}
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func equalStates(a, b trustState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func readObject(t *testing.T, a *Agent, key string) []byte {
	t.Helper()
	rc, err := a.Storage.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func put(t *testing.T, a *Agent, key string, b []byte) {
	t.Helper()
	if err := a.Storage.Put(context.Background(), key, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

// checkVerifyFinds runs verify on a chain whose level is damaged: an
// integrity error, that level (and only it) reported with the payload as
// the damaged object, and nothing written.
func checkVerifyFinds(t *testing.T, a *Agent, ro Options, level int, ref backup.Ref, what string) {
	t.Helper()
	vo := ro
	vo.Action, vo.VerifyReadData = ActionVerify, true
	vo.RestoreAbsPath = filepath.Join(t.TempDir(), "never")
	res, err := a.Run(context.Background(), vo)
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("verify, level %d %s: err = %v, want an integrity error", level, what, err)
	}
	if len(res.Verified) != 2 {
		t.Fatalf("verify, level %d %s: %d levels reported, want 2", level, what, len(res.Verified))
	}
	for i, c := range res.Verified {
		if c.OK != (i != level) {
			t.Errorf("verify, level %d %s: level %d reported OK=%v", level, what, i, c.OK)
		}
		if i == level && (c.Object != ref.DataKey() || c.Offset < 0 || c.Error == "") {
			t.Errorf("verify, level %d %s: report %+v, want the payload and an offset", level, what, c)
		}
	}
	if _, err := os.Lstat(vo.RestoreAbsPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("verify wrote %s", vo.RestoreAbsPath)
	}
}

// TestVerifyWithoutReadingData: --verify-read-data=false finds a missing
// payload or engine state without reading a payload byte, and passes a
// damaged but present payload (it does not read it).
func TestVerifyWithoutReadingData(t *testing.T) {
	a, f := newTestAgent(t)
	src := testTree(t)
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	refs := committed(t, a)
	vo := restoreOpts("")
	vo.Action = ActionVerify
	before := f.Calls(storage.OpGet)
	if _, err := a.Run(context.Background(), vo); err != nil {
		t.Fatal(err)
	}
	// Per level: its metadata, and two opens closed unread.
	if n := f.Calls(storage.OpGet) - before; n != 6 {
		t.Errorf("%d Gets, want 6", n)
	}
	for _, key := range []string{refs[1].EngineMetadataKey(), refs[0].DataKey()} {
		orig := readObject(t, a, key)
		if err := a.Storage.Delete(context.Background(), key); err != nil {
			t.Fatal(err)
		}
		res, err := a.Run(context.Background(), vo)
		if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), key) {
			t.Fatalf("missing %s: err = %v", key, err)
		}
		bad := 0
		for _, c := range res.Verified {
			if !c.OK {
				bad++
				if c.Object != key || c.Offset != -1 {
					t.Errorf("missing %s reported as %+v", key, c)
				}
			}
		}
		if bad != 1 {
			t.Errorf("missing %s: %d levels damaged, want 1", key, bad)
		}
		put(t, a, key, orig)
	}
}

// TestVerifyWithoutReadingDataSizes: --verify-read-data=false compares a
// payload's stored size with the size its metadata records, so a truncated
// payload is damage (naming the object and both sizes) and the intact one
// passes.
func TestVerifyWithoutReadingDataSizes(t *testing.T) {
	a, _ := newTestAgent(t)
	src := testTree(t)
	for range 2 {
		if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
			t.Fatal(err)
		}
	}
	refs := committed(t, a)
	vo := restoreOpts("")
	vo.Action = ActionVerify
	if _, err := a.Run(context.Background(), vo); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	key := refs[0].DataKey()
	orig := readObject(t, a, key)
	short := orig[:len(orig)/2]
	put(t, a, key, short)
	res, err := a.Run(context.Background(), vo)
	want := fmt.Sprintf("%s is %d bytes, metadata says %d", key, len(short), len(orig))
	if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), key) {
		t.Fatalf("truncated payload: err = %v, want an integrity error naming %s", err, key)
	}
	if len(res.Verified) != 2 || res.Verified[0].OK || !res.Verified[1].OK || res.Verified[0].Object != key || !strings.Contains(res.Verified[0].Error, want) {
		t.Errorf("truncated payload reported as %+v, want level 0 saying %q", res.Verified, want)
	}
	put(t, a, key, orig)
	if _, err := a.Run(context.Background(), vo); err != nil {
		t.Fatalf("payload put back: %v", err)
	}
}

// TestListMatchesRestoreAndTar: list's merged view of a two-level chain
// (a file deleted, files changed, a symbolic link retargeted at level 1)
// names exactly what the restore makes, with the same types, sizes and
// link targets and the level each version comes from; for level 0 alone,
// the same paths and sizes as GNU tar's own listing of the payload.
func TestListMatchesRestoreAndTar(t *testing.T) {
	a, _ := newTestAgent(t)
	src := t.TempDir()
	writeState(t, src, trustState0)
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	lo := restoreOpts("")
	lo.Action = ActionList
	res0, err := a.Run(context.Background(), lo)
	if err != nil {
		t.Fatal(err)
	}
	if tarBin, err := exec.LookPath("tar"); err == nil {
		payload := filepath.Join(t.TempDir(), "payload")
		if err := os.WriteFile(payload, readObject(t, a, committed(t, a)[0].DataKey()), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tarBin, "-tvf", payload).Output()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			name := strings.TrimSuffix(strings.TrimPrefix(f[5], "./"), "/")
			if name == "." || name == "" {
				continue
			}
			size := f[2]
			if f[0][0] == 'd' {
				size = "0"
			}
			want[name] = string(f[0][0]) + " " + size
		}
		got := map[string]string{}
		for _, e := range res0.Contents {
			tc := map[string]string{"file": "-", "dir": "d", "symlink": "l", "hardlink": "h"}[e.Type]
			size := fmt.Sprint(e.Size)
			if e.Type == "dir" {
				size = "0"
			}
			got[e.Path] = tc + " " + size
		}
		if !maps.Equal(got, want) {
			t.Errorf("list of level 0:\n%v\ntar -tv:\n%v", got, want)
		}
	}

	writeState(t, src, trustState1)
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	res, err := a.Run(context.Background(), lo)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := a.Run(context.Background(), restoreOpts(dst)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dst {
			return err
		}
		rel, _ := filepath.Rel(dst, p)
		fi, _ := os.Lstat(p)
		switch {
		case d.IsDir():
			want[rel] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			want[rel] = "symlink " + l
		default:
			want[rel] = fmt.Sprintf("file %d", fi.Size())
		}
		return nil
	})
	got := map[string]string{}
	levels := map[string]int{}
	for _, e := range res.Contents {
		switch e.Type {
		case "dir":
			got[e.Path] = "dir"
		case "symlink":
			got[e.Path] = "symlink " + e.Linkname
		default:
			got[e.Path] = fmt.Sprintf("%s %d", e.Type, e.Size)
		}
		levels[e.Path] = e.Level
	}
	if !maps.Equal(got, want) {
		t.Errorf("list:\n%v\nrestored tree:\n%v", got, want)
	}
	// writeState rewrites every file, so each comes from level 1; the
	// directories GNU tar lists again come from it too.
	if levels["big"] != 1 || levels["dir/sl"] != 1 {
		t.Errorf("levels: big %d, dir/sl %d; want 1, 1", levels["big"], levels["dir/sl"])
	}
	lo.ListGlob = "z/*"
	res, err = a.Run(context.Background(), lo)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range res.Contents {
		names = append(names, e.Path)
	}
	if strings.Join(names, " ") != "z/last z/replace z/small" {
		t.Errorf("list z/*: %v", names)
	}
}

// TestRestorePaths: --restore-path restores the matching paths of the
// chain's last state (a directory with everything below it) and the
// directories above them, nothing else, with many small files skipped
// on the way.
func TestRestorePaths(t *testing.T) {
	a, _ := newTestAgent(t)
	src := t.TempDir()
	s0 := maps.Clone(trustState0)
	for i := range 100 {
		s0[fmt.Sprintf("many/f%03d", i)] = fmt.Sprint(i)
	}
	writeState(t, src, s0)
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	s1 := maps.Clone(trustState1)
	maps.Copy(s1, map[string]string{"many/f050": "changed"})
	for i := range 100 {
		if k := fmt.Sprintf("many/f%03d", i); s1[k] == "" {
			s1[k] = fmt.Sprint(i)
		}
	}
	writeState(t, src, s1)
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	ro := restoreOpts(t.TempDir())
	ro.RestorePaths = []string{"z", "dir/c", "many/f05?"}
	if _, err := a.Run(context.Background(), ro); err != nil {
		t.Fatal(err)
	}
	got := readState(t, ro.RestoreAbsPath)
	want := trustState{"z/last": s1["z/last"], "z/replace": s1["z/replace"], "z/small": s1["z/small"], "dir/c": s1["dir/c"]}
	for i := 50; i < 60; i++ {
		k := fmt.Sprintf("many/f%03d", i)
		want[k] = s1[k]
	}
	if !equalStates(got, want) {
		var names []string
		for k := range got {
			names = append(names, k)
		}
		slices.Sort(names)
		t.Errorf("restored %v", names)
	}
	ro = restoreOpts(t.TempDir())
	ro.RestorePaths = []string{"[bad"}
	if _, err := a.Run(context.Background(), ro); !errors.Is(err, ErrUsage) {
		t.Errorf("bad glob: %v, want a usage error", err)
	}
}

// checkDamagedRestores damages each level's payload in turn (every
// trustDamages edit), checks that verify finds it, and that a restore
// into an empty target and into one holding level 0 fails with an
// integrity error naming what was not restored, leaves no temporary
// (names containing tempMarker) and only verified content: level 0's, and
// level 1's (state1) when fzae1 released it authenticated. The payloads
// are put back after.
func checkDamagedRestores(t *testing.T, a *Agent, ro Options, refs []backup.Ref, enc string, state1 trustState, tempMarker string) {
	t.Helper()
	for level, ref := range refs {
		orig := readObject(t, a, ref.DataKey())
		for _, d := range trustDamages() {
			put(t, a, ref.DataKey(), d.edit(orig))
			checkVerifyFinds(t, a, ro, level, ref, d.name)
			for _, prior := range []trustState{nil, trustState0} {
				dst := t.TempDir()
				if prior != nil {
					writeState(t, dst, prior)
				}
				ro.RestoreAbsPath = dst
				_, err := a.Run(context.Background(), ro)
				where := fmt.Sprintf("level %d %s (target held %d files)", level, d.name, len(prior))
				if !errors.Is(err, ErrIntegrity) {
					t.Fatalf("%s: err = %v, want an integrity error", where, err)
				}
				if !strings.Contains(err.Error(), "restored") {
					t.Errorf("%s: error does not say what was not restored: %v", where, err)
				}
				got := readState(t, dst)
				for rel := range got {
					if strings.Contains(rel, tempMarker) {
						t.Errorf("%s: temporary %s left behind", where, rel)
					}
				}
				verified := []trustState{trustState0}
				if level == 1 && enc == "fzae1" {
					verified = append(verified, state1)
				}
				checkTrusted(t, got, verified...)
				if t.Failed() {
					t.Fatalf("%s: %v", where, err)
				}
			}
		}
		put(t, a, ref.DataKey(), orig)
	}
}
