package agent

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// rsyncTrustState1 changes trustState0 the way block deltas see it: a few
// blocks of big rewritten, mid appended to, z/last cut short, dir/c
// rewritten with the same bytes (only its times change), a new file, a
// retargeted link, a deletion. Every changed file of level 0 is patched in
// place by level 1.
func rsyncTrustState1() trustState {
	big := []byte(trustState0["big"])
	for _, off := range []int{3 << 12, 17<<12 + 100, 30 << 12} {
		copy(big[off:], noise(uint64(off), 3000))
	}
	return trustState{
		"a":         "alpha",
		"big":       string(big),
		"dir/c":     trustState0["dir/c"],
		"mid":       trustState0["mid"] + noise(9, 20<<10),
		"dir/sl":    "->../z/small",
		"n1":        noise(7, 100<<10),
		"z/last":    trustState0["z/last"][:30<<10],
		"z/small":   "small",
		"z/replace": "level 1, longer than before",
	}
}

// TestRsyncDamagedRestoreLeavesNoDamagedFile is
// TestDamagedRestoreLeavesNoDamagedFile for --engine rsyncv2, whose level
// 1 patches files in place: for every compression and encryption format,
// damage at several offsets of either level makes the restore an
// integrity error that names what was not restored, and every file of the
// target holds a verified version (level 0's, or level 1's where its
// bytes were authenticated before they were written) or is absent; no
// file mixes blocks of two versions, no temporary stays.
func TestRsyncDamagedRestoreLeavesNoDamagedFile(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of restores")
	}
	passFile := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(passFile, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state1 := rsyncTrustState1()
	for _, comp := range []string{"none", "gzip", "bzip2", "xz", "zstd"} {
		for _, enc := range []string{"", "openssl", "fzae1"} {
			if raceEnabled && !slices.Contains([]string{"none+", "gzip+openssl", "zstd+fzae1"}, comp+"+"+enc) {
				continue
			}
			t.Run(comp+"+"+cmp(enc, "plain"), func(t *testing.T) {
				a, _ := newRsyncTestAgent(t)
				a.Codecs = cheapCodecs{}
				a.ChunkSize = 16 << 10
				src := t.TempDir()
				bo := rsyncBackupOpts(src)
				bo.Compression = comp
				if enc != "" {
					bo.EncryptPassFile, bo.EncryptionFormat = passFile, enc
				}
				writeState(t, src, trustState0)
				if _, err := a.Run(context.Background(), bo); err != nil {
					t.Fatal(err)
				}
				writeState(t, src, state1)
				if _, err := a.Run(context.Background(), bo); err != nil {
					t.Fatal(err)
				}
				refs := rsyncCommitted(t, a)
				if len(refs) != 2 {
					t.Fatalf("%d backups, want 2", len(refs))
				}
				ro := restoreOpts("")
				ro.Engine = "rsyncv2"
				ro.EncryptPassFile = passFile
				ro.Overwrite = true
				checkDamagedRestores(t, a, ro, refs, enc, state1, ".freezer-rsync-")
				dst := t.TempDir()
				ro.RestoreAbsPath = dst
				if _, err := a.Run(context.Background(), ro); err != nil {
					t.Fatal(err)
				}
				if got := readState(t, dst); !equalStates(got, state1) {
					t.Errorf("undamaged restore differs from the source")
				}
			})
		}
	}
}
