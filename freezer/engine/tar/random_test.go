//go:build unix

package tar

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// randomMutations changes a tree the way users do, at random: new, edited,
// deleted, moved and hard-linked files, new, moved and deleted
// directories, type changes and symlinks.
func randomMutations(t *testing.T, rng *rand.Rand, root string, n int, links bool) {
	t.Helper()
	var dirs, files []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			dirs = append(dirs, p)
		case d.Type().IsRegular():
			files = append(files, p)
		}
		return nil
	})
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	fresh := func() string { return fmt.Sprintf("n%04d", rng.IntN(10000)) }
	for range n {
		switch op := rng.IntN(11); {
		case op == 0 || len(files) == 0:
			p := filepath.Join(pick(dirs), fresh())
			if os.WriteFile(p, []byte(strings.Repeat(fresh(), rng.IntN(50))), 0o644) == nil {
				files = append(files, p)
			}
		case op == 1:
			os.WriteFile(pick(files), []byte("edited "+fresh()), 0o600)
		case op == 2:
			os.Remove(pick(files))
		case op == 3:
			p := filepath.Join(pick(dirs), fresh())
			if os.Mkdir(p, 0o755) == nil {
				dirs = append(dirs, p)
			}
		case op == 4 || op == 5: // move a directory somewhere else
			d := pick(dirs)
			to := filepath.Join(pick(dirs), fresh())
			if d != root && !strings.HasPrefix(to, d+"/") {
				os.Rename(d, to)
			}
		case op == 6:
			os.Rename(pick(files), filepath.Join(pick(dirs), fresh()))
		case op == 7:
			if d := pick(dirs); d != root && rng.IntN(3) == 0 {
				os.RemoveAll(d)
			}
		case op == 8 && links:
			os.Link(pick(files), filepath.Join(pick(dirs), fresh()))
		case op == 9:
			os.Symlink(fresh(), filepath.Join(pick(dirs), fresh()))
		case op == 10: // a file becomes a directory
			f := pick(files)
			if os.Remove(f) == nil {
				os.Mkdir(f, 0o700)
			}
		}
		// The lists may be stale now; refresh them now and then.
		if rng.IntN(5) == 0 {
			dirs, files = dirs[:0], files[:0]
			filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					dirs = append(dirs, p)
				} else if d.Type().IsRegular() {
					files = append(files, p)
				}
				return nil
			})
		}
	}
}

// Random chains restore to the source tree with our engine and with GNU
// tar, level after level. GNU tar rewrites an existing file in place, so
// in a tree where a name left a hard-link group its restore writes through
// the stale link; the GNU comparison therefore runs on trees without hard
// links, ours on trees with them too.
func TestRandomChains(t *testing.T) {
	requireGNUTar(t)
	renames := 0
	defer func() { t.Logf("levels with rename records: %d", renames) }()
	for _, withGNU := range []bool{false, true} {
		for seed := range uint64(6) {
			t.Run(fmt.Sprintf("gnu=%v/%d", withGNU, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				src, ours, theirs := t.TempDir(), t.TempDir(), t.TempDir()
				randomMutations(t, rng, src, 60, !withGNU)
				e := New(Options{})
				var prev []byte
				for level := range 7 {
					if level > 0 {
						randomMutations(t, rng, src, 25, !withGNU)
					}
					l := runBackup(t, e, src, prev)
					prev = l.state
					if bytes.Contains(l.archive, []byte("\x00R./")) {
						renames++
					}
					runRestore(t, e, ours, l.archive)
					requireSameTree(t, src, ours)
					if withGNU {
						gnuRestore(t, theirs, l.archive)
						requireSameTree(t, src, theirs)
					}
				}
			})
		}
	}
}

// Random chains written by GNU tar: our restore never yields a wrong tree,
// and it restores every chain GNU tar restores itself (and more: GNU tar
// often cannot apply the directory renames it records for nested moves).
func TestGNURandomChainsRestoreWithOurs(t *testing.T) {
	requireGNUTar(t)
	oursFailed, gnuFailed := 0, 0
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 9))
		src, ours, theirs := t.TempDir(), t.TempDir(), t.TempDir()
		randomMutations(t, rng, src, 60, false)
		snap := filepath.Join(t.TempDir(), "snap")
		e := New(Options{})
		oursOK, gnuOK := true, true
		for level := range 7 {
			if level > 0 {
				randomMutations(t, rng, src, 25, false)
			}
			arc := gnuBackup(t, src, snap)
			if oursOK {
				if err := restoreErr(e, ours, arc); err != nil {
					t.Logf("seed %d level %d: our restore: %v", seed, level, err)
					oursOK = false
					oursFailed++
				} else {
					requireSameTree(t, src, ours)
				}
			}
			if gnuOK {
				p := writeTemp(t, "level.tar", arc)
				cmd := exec.Command(gnuTar, "--extract", "--incremental", "--overwrite", "--directory", theirs, "-f", p)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Logf("seed %d level %d: GNU tar: %s", seed, level, out)
					gnuOK = false
					gnuFailed++
				} else {
					requireSameTree(t, src, theirs)
				}
			}
			if !oursOK && gnuOK {
				t.Fatalf("seed %d level %d: GNU tar restores this chain, we do not", seed, level)
			}
		}
	}
	t.Logf("chains that failed to restore: ours %d, GNU tar %d of 8", oursFailed, gnuFailed)
}
