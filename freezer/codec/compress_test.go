package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

func TestCompressorNames(t *testing.T) {
	want := []string{"bzip2", "gzip", "none", "xz", "zlib", "zstd"}
	if got := CompressorNames(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("CompressorNames() = %v, want %v", got, want)
	}
	for _, n := range want {
		c := mustCompressor(t, n)
		if c.Name() != n {
			t.Errorf("Compressor(%q).Name() = %q", n, c.Name())
		}
	}
}

func TestCompressorUnknownAndBadOptions(t *testing.T) {
	for _, n := range []string{"", "GZIP", "lz4", "gz", "zst"} {
		_, err := Compressor(n)
		if err == nil || !strings.Contains(err.Error(), "unknown compression") || !strings.Contains(err.Error(), "zstd") {
			t.Errorf("Compressor(%q) error = %v, want an unknown-compression error listing the names", n, err)
		}
	}
	for _, tc := range []struct {
		name string
		o    CompressOptions
	}{
		{"gzip", CompressOptions{Level: 10}},
		{"bzip2", CompressOptions{Level: 10}},
		{"zstd", CompressOptions{Level: 23}},
		{"gzip", CompressOptions{Level: -1}},
		{"zstd", CompressOptions{Concurrency: -1}},
	} {
		if _, err := NewCompressor(tc.name, tc.o); err == nil {
			t.Errorf("NewCompressor(%q, %+v) accepted a bad option", tc.name, tc.o)
		}
	}
}

// smallBlocks returns the compressors with their parallel units shrunk so
// that the multi-MiB test inputs span several members.
func smallBlocks(t *testing.T) []backup.Codec {
	var cs []backup.Codec
	for _, n := range CompressorNames() {
		c := mustCompressor(t, n)
		switch c := c.(type) {
		case bzip2Codec:
			c.memberSize = 300_000
			cs = append(cs, c)
		case xzCodec:
			c.memberSize = 64 << 10
			cs = append(cs, c)
		default:
			cs = append(cs, c)
		}
	}
	return cs
}

func TestCompressRoundTrip(t *testing.T) {
	for _, c := range smallBlocks(t) {
		for _, size := range testSizes(c.Name()) {
			t.Run(fmt.Sprintf("%s/%d", c.Name(), size), func(t *testing.T) {
				data := testData(uint64(size), size)
				enc := encodeAll(t, c, data)
				if got := mustDecode(t, c, enc); !bytes.Equal(got, data) {
					t.Fatalf("round trip changed the data: got %d bytes, want %d", len(got), len(data))
				}
				if c.Name() != None && size > 100_000 && len(enc) >= len(data) {
					t.Errorf("no compression: %d bytes in, %d out", len(data), len(enc))
				}
			})
		}
	}
}

func TestCompressDefaultsRoundTripLarge(t *testing.T) {
	// Default member sizes, input spanning more than one bzip2 member.
	size := 10 << 20
	if raceEnabled {
		size = 2 << 20
	}
	data := testData(7, size)
	for _, n := range []string{Bzip2, Gzip, Zstd} {
		c := mustCompressor(t, n)
		if got := mustDecode(t, c, encodeAll(t, c, data)); !bytes.Equal(got, data) {
			t.Fatalf("%s: round trip changed the data", n)
		}
	}
}

func TestCompressSingleThreaded(t *testing.T) {
	for _, n := range CompressorNames() {
		data := testData(3, bigFor(n))
		c, err := NewCompressor(n, CompressOptions{Concurrency: 1, Level: 3})
		if err != nil {
			t.Fatal(err)
		}
		if got := mustDecode(t, c, encodeAll(t, c, data)); !bytes.Equal(got, data) {
			t.Fatalf("%s: round trip changed the data", n)
		}
	}
}

// cliTools maps our compressor names to the Debian CLI tools.
var cliTools = map[string]string{Gzip: "gzip", Bzip2: "bzip2", Xz: "xz", Zstd: "zstd"}

func TestCompressInteropWithCLI(t *testing.T) {
	for _, c := range smallBlocks(t) {
		bin, ok := cliTools[c.Name()]
		if !ok {
			continue
		}
		for _, size := range testSizes(c.Name()) {
			t.Run(fmt.Sprintf("%s/%d", c.Name(), size), func(t *testing.T) {
				data := testData(uint64(size)+11, size)
				// ours → CLI
				got := run(t, encodeAll(t, c, data), bin, "-d", "-c")
				if !bytes.Equal(got, data) {
					t.Fatalf("%s -d of our output: got %d bytes, want %d", bin, len(got), len(data))
				}
				// CLI → ours, at the CLI's default level and at its fastest
				for _, lvl := range []string{"-6", "-1"} {
					enc := run(t, data, bin, "-c", lvl)
					if got := mustDecode(t, c, enc); !bytes.Equal(got, data) {
						t.Fatalf("decoding %s %s output: got %d bytes, want %d", bin, lvl, len(got), len(data))
					}
				}
			})
		}
	}
}

func TestDecompressConcatenatedCLIStreams(t *testing.T) {
	// gzip -d, bzip2 -d, xz -d and zstd -d treat concatenated streams as
	// one; so must we, since pigz/pbzip2-style writers produce them.
	a, b := testData(1, 5000), testData(2, 7000)
	for name, bin := range cliTools {
		enc := append(run(t, a, bin, "-c"), run(t, b, bin, "-c")...)
		got := mustDecode(t, mustCompressor(t, name), enc)
		if !bytes.Equal(got, append(append([]byte{}, a...), b...)) {
			t.Errorf("%s: concatenated streams decoded to %d bytes, want %d", name, len(got), len(a)+len(b))
		}
	}
}

func TestPythonReadsOurGzipAndZlib(t *testing.T) {
	data := testData(5, 500_003)
	py := `import sys, gzip, zlib, bz2, lzma
kind, path = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
out = {"gzip": gzip.decompress, "zlib": zlib.decompress, "bzip2": bz2.decompress, "xz": lzma.decompress}[kind](raw)
sys.stdout.buffer.write(out)`
	for _, c := range smallBlocks(t) {
		if c.Name() == None || c.Name() == Zstd {
			continue
		}
		p := writeTemp(t, "enc", encodeAll(t, c, data))
		got := run(t, nil, "python3", "-c", py, c.Name(), p)
		if !bytes.Equal(got, data) {
			t.Errorf("python3 %s module decoded our output to %d bytes, want %d", c.Name(), len(got), len(data))
		}
	}
	// Python's zlib writes what our zlib reads (upstream's rsync engines).
	p := writeTemp(t, "plain", data)
	enc := run(t, nil, "python3", "-c", `import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], "rb").read(), 9))`, p)
	if got := mustDecode(t, mustCompressor(t, Zlib), enc); !bytes.Equal(got, data) {
		t.Errorf("decoding python zlib.compress output: got %d bytes, want %d", len(got), len(data))
	}
}

func TestPythonTarfileReadsOurGzip(t *testing.T) {
	// A one-file tar made by the tar CLI, gzipped by us, listed by Python's
	// tarfile in stream mode as an upstream tool would read it.
	dir := t.TempDir()
	payload := testData(9, 200_000)
	if err := writeFile(dir+"/f.bin", payload); err != nil {
		t.Fatal(err)
	}
	tarball := run(t, nil, "tar", "-C", dir, "-cf", "-", "f.bin")
	p := writeTemp(t, "t.tgz", encodeAll(t, mustCompressor(t, Gzip), tarball))
	out := run(t, nil, "python3", "-c", `import sys, tarfile
with tarfile.open(sys.argv[1], "r|gz") as tf:
    for m in tf:
        sys.stdout.write("%s %d\n" % (m.name, m.size))`, p)
	if want := fmt.Sprintf("f.bin %d\n", len(payload)); string(out) != want {
		t.Fatalf("tarfile listed %q, want %q", out, want)
	}
}

func TestDecompressCorruptInput(t *testing.T) {
	data := testData(42, 200_000)
	for _, c := range smallBlocks(t) {
		if c.Name() == None {
			continue
		}
		enc := encodeAll(t, c, data)
		cases := map[string][]byte{
			"empty":     {},
			"truncated": enc[:len(enc)*2/3],
			"tail cut":  enc[:len(enc)-1],
			"garbage":   bytes.Repeat([]byte("not compressed "), 100),
		}
		flipped := bytes.Clone(enc)
		flipped[len(flipped)/2] ^= 0x10
		cases["bit flipped"] = flipped
		for what, in := range cases {
			got, err := decodeAll(c, in)
			if err == nil {
				t.Errorf("%s, %s input: no error (decoded %d bytes)", c.Name(), what, len(got))
				continue
			}
			if !strings.Contains(err.Error(), c.Name()) {
				t.Errorf("%s, %s input: error %q does not name the algorithm", c.Name(), what, err)
			}
		}
	}
}

func TestCompressWriteErrorPropagates(t *testing.T) {
	for _, c := range smallBlocks(t) {
		data := testData(8, bigFor(c.Name()))
		w, err := c.Encode(&failWriter{n: 100})
		if err != nil {
			t.Fatal(err)
		}
		_, werr := w.Write(data)
		cerr := w.Close()
		if !errors.Is(werr, errTestWrite) && !errors.Is(cerr, errTestWrite) {
			t.Errorf("%s: write error lost: Write=%v Close=%v", c.Name(), werr, cerr)
		}
	}
}

func TestDecodeCloseWithoutReading(t *testing.T) {
	// A restore that fails half-way closes its decoders early; that must
	// not hang or leak a blocked goroutine.
	for _, c := range smallBlocks(t) {
		data := testData(4, bigFor(c.Name()))
		r, err := c.Decode(bytes.NewReader(encodeAll(t, c, data)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, make([]byte, 1000)); err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: Close: %v", c.Name(), err)
		}
		if _, err := r.Read(make([]byte, 10)); err == nil && c.Name() != None {
			t.Errorf("%s: Read after Close succeeded", c.Name())
		}
	}
}

// withXzDict returns the xz stream enc with the LZMA2 dictionary size of
// its first block's header set to the code c (size (2 | c&1) << (c/2 + 11),
// 40 meaning 4 GiB - 1), the header's CRC32 fixed up: what a hostile or
// unusual writer could store.
func withXzDict(t *testing.T, enc []byte, c byte) []byte {
	t.Helper()
	out := append([]byte{}, enc...)
	const blk = 12 // after the stream header
	size := (int(out[blk]) + 1) * 4
	flags := out[blk+1]
	i := blk + 2
	for _, f := range []byte{0x40, 0x80} { // compressed, uncompressed size present
		if flags&f != 0 {
			for out[i]&0x80 != 0 {
				i++
			}
			i++
		}
	}
	if out[i] != 0x21 || out[i+1] != 1 {
		t.Fatalf("first filter is %#x with %d property bytes, not LZMA2", out[i], out[i+1])
	}
	out[i+2] = c
	binary.LittleEndian.PutUint32(out[blk+size-4:], crc32.ChecksumIEEE(out[blk:blk+size-4]))
	return out
}

// A stream header may ask for a dictionary of up to 4 GiB, which is the
// decoder's memory: more than xz -9's 64 MiB is refused with a clear
// error, 64 MiB itself is read.
func TestXzDictionaryIsBounded(t *testing.T) {
	c := mustCompressor(t, Xz)
	data := testData(3, 100_000)
	enc := encodeAll(t, c, data)
	if got := mustDecode(t, c, withXzDict(t, enc, 28)); !bytes.Equal(got, data) { // 64 MiB
		t.Fatal("a 64 MiB dictionary stream decoded wrong")
	}
	for _, code := range []byte{29, 40} { // 96 MiB, 4 GiB - 1
		d, err := c.Decode(bytes.NewReader(withXzDict(t, enc, code)))
		if err == nil {
			_, err = io.Copy(io.Discard, d)
		}
		if err == nil || !strings.Contains(err.Error(), "dictionary over 64 MiB") {
			t.Errorf("dictionary code %d: error %v, want the dictionary refused", code, err)
		}
	}
}
