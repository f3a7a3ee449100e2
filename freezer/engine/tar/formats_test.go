//go:build unix

package tar

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// makeSparse writes a file with data islands separated by holes.
func makeSparse(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	want := make([]byte, 3<<20)
	for _, off := range []int{0, 1 << 20, 3<<20 - 5000} {
		chunk := bytes.Repeat([]byte("island"), 700)
		_, err := f.WriteAt(chunk, int64(off))
		must(t, err)
		copy(want[off:], chunk)
	}
	must(t, f.Truncate(3<<20))
	must(t, f.Close())
	return want
}

// Archives GNU tar writes in its other formats — sparse members (old GNU
// and the three PAX encodings) and PAX headers for long and non-ASCII
// names — restore with our engine to what GNU tar itself extracts.
func TestReadsGNUTarSparseAndPAX(t *testing.T) {
	requireGNUTar(t)
	src := t.TempDir()
	want := makeSparse(t, filepath.Join(src, "sparse.img"))
	long := strings.Repeat("p", 150)
	mustWrite(t, filepath.Join(src, long, "ünïcödé-"+strings.Repeat("q", 120)), "pax name", 0o600)
	must(t, os.Symlink(strings.Repeat("t", 150), filepath.Join(src, "longlink")))
	settle(t, src)
	variants := [][]string{
		{"--format=gnu", "--sparse"},
		{"--format=posix", "--sparse", "--sparse-version=0.0"},
		{"--format=posix", "--sparse", "--sparse-version=0.1"},
		{"--format=posix", "--sparse", "--sparse-version=1.0"},
		{"--format=posix"},
		{"--format=posix", "--sparse", "--listed-incremental=SNAP"},
	}
	for _, v := range variants {
		t.Run(strings.Join(v, " "), func(t *testing.T) {
			tmp := t.TempDir()
			arc := filepath.Join(tmp, "a.tar")
			args := []string{"--create", "-f", arc}
			for _, a := range v {
				args = append(args, strings.ReplaceAll(a, "SNAP", filepath.Join(tmp, "snap")))
			}
			runGNU(t, src, append(args, ".")...)
			data, err := os.ReadFile(arc)
			must(t, err)
			ours, theirs := t.TempDir(), t.TempDir()
			runRestore(t, New(Options{}), ours, data)
			runGNU(t, "", "--extract", "-f", arc, "--directory", theirs)
			got, err := os.ReadFile(filepath.Join(ours, "sparse.img"))
			must(t, err)
			if !bytes.Equal(got, want) {
				t.Fatalf("sparse file content differs (len %d, want %d)", len(got), len(want))
			}
			requireSameTree(t, theirs, ours)
			if strings.Contains(strings.Join(v, " "), "sparse") {
				fi, err := os.Stat(filepath.Join(ours, "sparse.img"))
				must(t, err)
				if used := fi.Sys().(*syscall.Stat_t).Blocks * 512; used > 1<<20 {
					t.Errorf("restored sparse file uses %d bytes of disk for 3 MiB with 3 small islands", used)
				}
			}
		})
	}
}
