//go:build linux

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRsyncRoundTripChains is TestRoundTripChains for --engine rsyncv2:
// levels 0..3 for every compression × encryption, the newest state and
// every level's state by date restored and compared.
func TestRsyncRoundTripChains(t *testing.T) {
	pass := filepath.Join(t.TempDir(), "pass")
	must(t, os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600))
	encs := map[string][]string{
		"plain":   nil,
		"openssl": {"--encrypt-pass-file", pass, "--encryption-format", "openssl"},
		"fzae1":   {"--encrypt-pass-file", pass},
	}
	for _, comp := range []string{"none", "gzip", "bzip2", "xz", "zstd"} {
		for encName, encArgs := range encs {
			t.Run(comp+"/"+encName, func(t *testing.T) {
				if raceEnabled && (comp == "bzip2" || comp == "xz") && encName != "plain" {
					t.Skip("race build: bzip2/xz with encryption run without -race")
				}
				h := newHarness(t, "--engine", "rsyncv2", "--max-level", "5")
				src := filepath.Join(t.TempDir(), "src")
				must(t, os.Mkdir(src, 0o755))
				var states []map[string]entry
				var stamps []int64
				for level := 0; level <= 3; level++ {
					mutate(t, src, level)
					m := h.backup(src, append([]string{"--compression", comp}, encArgs...)...)
					if m["curr_backup_level"] != float64(level) || m["engine_name"] != "rsync" {
						t.Fatalf("level %d backup: %v", level, m)
					}
					states = append(states, manifest(t, src))
					stamps = append(stamps, int64(m["time_stamp"].(float64)))
				}
				dst := filepath.Join(t.TempDir(), "dst")
				h.restore(dst, encArgs...)
				sameTree(t, "newest", states[3], manifest(t, dst))
				for level, ts := range stamps[:3] {
					dst := filepath.Join(t.TempDir(), "dst")
					date := time.Unix(ts, 0).UTC().Format("2006-01-02T15:04:05")
					h.restore(dst, append([]string{"--restore-from-date", date}, encArgs...)...)
					sameTree(t, fmt.Sprintf("state of level %d by date", level), states[level], manifest(t, dst))
				}
			})
		}
	}
}

// TestRsyncLayoutAndLevels: the objects go under data/rsync and
// metadata/rsync whichever of rsync and rsyncv2 is named, the metadata
// carries rsync_block_size, "gzip" is a zlib stream as upstream writes it,
// always-level takes differentials, a chain keeps its block size, and
// admin removes old chains.
func TestRsyncLayoutAndLevels(t *testing.T) {
	h := newHarness(t, "--always-level", "2")
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	mutate(t, src, 0)
	var states []map[string]entry
	var stamps []int64
	for i, engine := range []string{"rsyncv2", "rsync", "rsyncv2", "rsync"} {
		if i > 0 {
			mutate(t, src, i)
		}
		m := h.backup(src, "--engine", engine, "--rsync-block-size", []string{"8192", "4096", "4096", "512"}[i])
		if want := []float64{0, 1, 2, 2}[i]; m["curr_backup_level"] != want {
			t.Fatalf("backup %d: level %v, want %v", i, m["curr_backup_level"], want)
		}
		states = append(states, manifest(t, src))
		stamps = append(stamps, int64(m["time_stamp"].(float64)))
	}
	metas, err := filepath.Glob(filepath.Join(h.store, "metadata", "rsync", "h_b", "*", "*", "metadata"))
	must(t, err)
	if len(metas) != 4 {
		t.Fatalf("metadata objects %v", metas)
	}
	for _, p := range metas {
		b, err := os.ReadFile(p)
		must(t, err)
		var md map[string]any
		must(t, json.Unmarshal(b, &md))
		if md["engine_name"] != "rsync" || md["compression"] != "gzip" || md["rsync_block_size"] != float64(8192) {
			t.Errorf("%s: %s (the chain's block size is the level 0's)", p, b)
		}
		data, err := os.ReadFile(filepath.Join(strings.Replace(filepath.Dir(p), "/metadata/", "/data/", 1), "data"))
		must(t, err)
		if len(data) < 2 || data[0] != 0x78 {
			t.Errorf("%s: payload starts % x, want a zlib stream", p, data[:min(len(data), 2)])
		}
	}
	for i, ts := range stamps {
		dst := filepath.Join(t.TempDir(), "dst")
		h.restore(dst, "--engine", "rsync", "--restore-from-date", time.Unix(ts, 0).UTC().Format(time.RFC3339))
		sameTree(t, fmt.Sprintf("backup %d by date", i), states[i], manifest(t, dst))
	}
	code, out, errOut := h.run("--action", "info", "--engine", "rsyncv2")
	if code != 0 {
		t.Fatalf("info: %d %s %s", code, out, errOut)
	}
	// A new chain, then retention of everything older than it (the
	// harness clock moves 100 s per run; 0.0017 days is 147 s).
	h.backup(src, "--engine", "rsyncv2", "--always-level", "0")
	if code, _, errOut := h.run("--action", "admin", "--engine", "rsyncv2", "--remove-older-than", "0.0017"); code != 0 {
		t.Fatalf("admin: %s", errOut)
	}
	chains, err := os.ReadDir(filepath.Join(h.store, "metadata", "rsync", "h_b"))
	must(t, err)
	if len(chains) != 1 {
		t.Errorf("after admin: %d chains, want the newest only", len(chains))
	}
}

// TestRsyncRestoresUpstreamLevel0: a level 0 written by Debian's Python
// agent (13.0.0, whose rsyncv2 backup works while its restore and
// incremental backup do not) restores with ours, and ours continues its
// chain.
func TestRsyncRestoresUpstreamLevel0(t *testing.T) {
	py := "/usr/bin/freezer-agent"
	if _, err := os.Stat(py); err != nil {
		t.Skip("needs Debian's python3-freezer (/usr/bin/freezer-agent)")
	}
	h := newHarness(t, "--engine", "rsyncv2")
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	mutate(t, src, 0)
	home := t.TempDir()
	cmd := exec.Command(py, "--action", "backup", "--mode", "fs", "--engine", "rsyncv2", "--storage", "local",
		"--container", h.store, "--hostname", "h", "--backup-name", "b", "--path-to-backup", src,
		"--no-incremental", "true", "--log-file", filepath.Join(home, "log"))
	cmd.Dir = src
	// The Python agent wants an auth URL even for local storage.
	cmd.Env = append(os.Environ(), "HOME="+home, "OS_AUTH_URL=http://127.0.0.1:5000/v3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python agent: %v\n%s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	h.restore(dst)
	want := manifest(t, src)
	// upstream stores every name of a hard link as a copy
	for p, e := range want {
		e.Link = ""
		want[p] = e
	}
	sameTree(t, "upstream level 0", want, manifest(t, dst))

	// Our level 1 continues the Python agent's chain: its engine_metadata
	// lists files in os.walk order, which is read through a sorted index.
	mutate(t, src, 1)
	if m := h.backup(src, "--max-level", "3"); m["curr_backup_level"] != float64(1) {
		t.Fatalf("our backup after upstream's level 0: %v", m)
	}
	dst = filepath.Join(t.TempDir(), "dst")
	h.restore(dst)
	// The new link to hard1 changed its inode's ctime, so every name of
	// it is in level 1, as one file and links.
	sameTree(t, "our level 1 on upstream's level 0", manifest(t, src), manifest(t, dst))
}

// TestRsyncRestartAlwaysLevel: --restart-always-level starts a new chain
// once the chain's level 0 is older than the given days (the harness
// clock moves 100 s per run; 0.002 days is 173 s).
func TestRsyncRestartAlwaysLevel(t *testing.T) {
	h := newHarness(t, "--engine", "rsyncv2", "--always-level", "3", "--restart-always-level", "0.002")
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	for i, want := range []float64{0, 1, 0, 1} {
		mutate(t, src, i)
		if m := h.backup(src); m["curr_backup_level"] != want {
			t.Fatalf("backup %d: level %v, want %v", i, m["curr_backup_level"], want)
		}
	}
	dst := filepath.Join(t.TempDir(), "dst")
	h.restore(dst)
	sameTree(t, "newest", manifest(t, src), manifest(t, dst))
}

// TestRsyncDamagedLevelExitsIntegrity: a level 1 that patches a file in
// place, damaged in storage (a flipped byte only the payload's sha256
// sees, or cut short), fails the restore with the integrity exit; the
// error names the file, and the target keeps the file's level-0 content.
func TestRsyncDamagedLevelExitsIntegrity(t *testing.T) {
	pass := filepath.Join(t.TempDir(), "pass")
	must(t, os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600))
	for name, c := range map[string]struct {
		args []string
		edit func([]byte) []byte
	}{
		"flip/none": {[]string{"--compression", "none"}, func(b []byte) []byte { b[len(b)-100] ^= 0x10; return b }},
		"cut/gzip":  {[]string{"--compression", "gzip"}, func(b []byte) []byte { return b[:len(b)*2/3] }},
		"flip/zstd+openssl": {[]string{"--compression", "zstd", "--encrypt-pass-file", pass, "--encryption-format", "openssl"},
			func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, "--engine", "rsyncv2", "--max-level", "3")
			src := filepath.Join(t.TempDir(), "src")
			img := randBytes(21, 64<<10)
			write(t, filepath.Join(src, "img"), img, 0o644)
			h.backup(src, c.args...)
			dst := filepath.Join(t.TempDir(), "dst")
			h.restore(dst, c.args...)
			f, err := os.OpenFile(filepath.Join(src, "img"), os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt(randBytes(22, 6000), 5*4096+7)
			must(t, err)
			must(t, f.Close())
			if m := h.backup(src, c.args...); m["curr_backup_level"] != float64(1) {
				t.Fatalf("second backup: %v", m)
			}
			l1, err := filepath.Glob(filepath.Join(h.store, "data", "rsync", "h_b", "*", "1_*", "data"))
			must(t, err)
			if len(l1) != 1 {
				t.Fatalf("level-1 payloads %v", l1)
			}
			b, err := os.ReadFile(l1[0])
			must(t, err)
			must(t, os.WriteFile(l1[0], c.edit(b), 0o600))
			code, _, errOut := h.run(append([]string{"--action", "restore", "--restore-abs-path", dst, "--overwrite"}, c.args...)...)
			if code != ExitIntegrity || !strings.Contains(errOut, "not restored") || !strings.Contains(errOut, `"img"`) {
				t.Fatalf("exit %d (stderr %q), want %d naming img", code, errOut, ExitIntegrity)
			}
			got, err := os.ReadFile(filepath.Join(dst, "img"))
			if err != nil || string(got) != string(img) {
				t.Errorf("img after the failed restore: %d bytes, %v; want its level-0 content", len(got), err)
			}
			ents, err := os.ReadDir(dst)
			must(t, err)
			if len(ents) != 1 {
				t.Errorf("target holds %d entries, want img alone", len(ents))
			}
		})
	}
}
