package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

// testData returns n deterministic bytes: runs of text-like, compressible
// bytes alternating with pseudo-random ones, so compressors see both.
func testData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	words := []string{"freezer ", "backup ", "level ", "restore ", "segment\n", "0123456789 ", "swift ", "tar "}
	out := make([]byte, 0, n)
	for len(out) < n {
		run := 1 + r.IntN(64<<10)
		if r.IntN(3) == 0 {
			for i := 0; i < run && len(out) < n; i++ {
				out = append(out, byte(r.Uint32()))
			}
		} else {
			for i := 0; i < run && len(out) < n; {
				w := words[r.IntN(len(words))]
				out = append(out, w...)
				i += len(w)
			}
		}
	}
	return out[:n]
}

// testSizes are the input sizes every round trip covers: empty, tiny,
// small and a few MiB (crossing every codec's internal block size at
// least once when the block sizes are shrunk by the tests).
func testSizes(name string) []int { return []int{0, 1, 1000, bigFor(name)} }

// bigFor is bigSize, cut for the pure-Go xz and bzip2 encoders, which run
// at a few MB/s; their inputs still span several members (see
// smallBlocks).
func bigFor(name string) int {
	switch {
	case name == Xz && raceEnabled:
		return 200_017
	case name == Xz:
		return 700_017
	case name == Bzip2 && raceEnabled:
		return 500_017
	}
	return bigSize()
}

// bigSize is the multi-MiB test input size (smaller under -race).
func bigSize() int {
	if raceEnabled {
		return 1<<20 + 17
	}
	return 3<<20 + 17
}

func encodeAll(t testing.TB, c backup.Codec, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := c.Encode(&buf)
	if err != nil {
		t.Fatalf("%s: Encode: %v", c.Name(), err)
	}
	// Odd-sized writes exercise the codecs' internal buffering.
	for p := data; len(p) > 0; {
		k := min(len(p), 70001)
		if _, err := w.Write(p[:k]); err != nil {
			t.Fatalf("%s: Write: %v", c.Name(), err)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("%s: Close: %v", c.Name(), err)
	}
	return buf.Bytes()
}

// decodeAll decodes everything; it returns the error of Decode or Read.
func decodeAll(c backup.Codec, enc []byte) ([]byte, error) {
	r, err := c.Decode(bytes.NewReader(enc))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return out, err
}

func mustDecode(t testing.TB, c backup.Codec, enc []byte) []byte {
	t.Helper()
	out, err := decodeAll(c, enc)
	if err != nil {
		t.Fatalf("%s: decoding: %v", c.Name(), err)
	}
	return out
}

func mustCompressor(t testing.TB, name string) backup.Codec {
	t.Helper()
	c, err := Compressor(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tool returns the path of a CLI tool the interop tests need. A missing
// tool fails the test: the interop is the point.
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed for this interop test (Debian package: %s): %v", name, debPkg(name), err)
	}
	return p
}

func debPkg(name string) string {
	switch name {
	case "xz":
		return "xz-utils"
	case "python3":
		return "python3"
	}
	return name
}

// run runs a command with stdin and returns stdout, failing on a non-zero
// exit.
func run(t testing.TB, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, err := runErr(stdin, tool(t, name), args...)
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

func runErr(stdin []byte, path string, args ...string) ([]byte, error) {
	cmd := exec.Command(path, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errTestWrite = errors.New("test write failure")

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	k := f.n
	f.n = 0
	return k, errTestWrite
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }
