package codec

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/backup"
)

// cheapKDF keeps the many fzae1 round trips fast; one test below uses the
// real default cost.
var cheapKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

var testPass = []byte("correct horse battery staple")

func hexd(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEVPBytesToKeySpecVector(t *testing.T) {
	// Upstream's test_crypt.py vector: MD5, password "ababab",
	// salt "a", 10-byte key, 5-byte IV.
	key, iv, err := EVPBytesToKey(md5.New, []byte("ababab"), []byte("a"), 1, 10, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(key), "b34a35ced46287cee03a"; got != want {
		t.Errorf("key = %s, want %s", got, want)
	}
	if got, want := hex.EncodeToString(iv), "93c99d0300"; got != want {
		t.Errorf("iv = %s, want %s", got, want)
	}
	if _, _, err := EVPBytesToKey(md5.New, nil, nil, 0, 32, 16); err == nil {
		t.Error("count 0 accepted")
	}
}

func TestEVPBytesToKeyOpenSSLVectors(t *testing.T) {
	// testdata/openssl/evp.txt holds `openssl enc -P` output.
	f, err := os.Open("testdata/openssl/evp.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	digests := map[string]func() hash.Hash{"sha256": sha256.New, "md5": md5.New}
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("bad vector line %q", sc.Text())
		}
		key, iv, err := EVPBytesToKey(digests[fs[0]], hexd(t, fs[1]), hexd(t, fs[2]), 1, 32, 16)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(key) != fs[3] || hex.EncodeToString(iv) != fs[4] {
			t.Errorf("%s: got key %x iv %x, want %s %s", sc.Text()[:40], key, iv, fs[3], fs[4])
		}
		n++
	}
	if n != 12 {
		t.Fatalf("read %d vectors, want 12", n)
	}
}

func TestReadPassFileMatchesOpenSSL(t *testing.T) {
	cases := []struct {
		content string
		want    string
	}{
		{"abc\n", "abc"},
		{"abc", "abc"},
		{"abc\r\nsecond line\n", "abc\r"},
		{"\nabc\n", ""},
		{"ab\x00cd\n", "ab"},
		{"  spaced  \n", "  spaced  "},
		{strings.Repeat("x", 1022) + "\n", strings.Repeat("x", 1022)},
		{strings.Repeat("y", 2000) + "\n", strings.Repeat("y", 1023)},
	}
	salt := []byte("12345678")
	for _, tc := range cases {
		p := writeTemp(t, "pass", []byte(tc.content))
		got, err := ReadPassFile(p)
		if err != nil {
			t.Fatalf("%q: %v", tc.content, err)
		}
		if string(got) != tc.want {
			t.Errorf("ReadPassFile(%q) = %q, want %q", tc.content, got, tc.want)
		}
		// The same file through openssl must give the same key.
		out := run(t, nil, "openssl", "enc", "-aes-256-cfb", "-md", "sha256", "-P", "-S", hex.EncodeToString(salt), "-pass", "file:"+p)
		key, _, _ := EVPBytesToKey(sha256.New, got, salt, 1, 32, 16)
		if !strings.Contains(string(out), "key="+strings.ToUpper(hex.EncodeToString(key))) {
			t.Errorf("%q: openssl derived a different key:\n%s", tc.content, out)
		}
	}
	if _, err := ReadPassFile(writeTemp(t, "empty", nil)); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: error %v, want one saying it is empty", err)
	}
	if _, err := ReadPassFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

func vectorPass(t testing.TB) []byte {
	p, err := ReadPassFile("testdata/openssl/pass.txt")
	if err != nil {
		t.Fatal(err)
	}
	if string(p) != "freezer test passphrase" {
		t.Fatalf("pass.txt first line = %q", p)
	}
	return p
}

var opensslVectors = []struct {
	file, plain, compression string
}{
	{"plain.gz.sha256.enc", "plain.gz", Gzip},
	{"plain.gz.md5.enc", "plain.gz", Gzip},
	{"plain.bz2.sha256.enc", "plain.bz2", Bzip2},
	{"plain.bz2.md5.enc", "plain.bz2", Bzip2},
	{"plain.tar.sha256.enc", "plain.tar", None},
	{"plain.tar.md5.enc", "plain.tar", None},
	{"empty.sha256.enc", "empty", Gzip},
}

func readVector(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata/openssl", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenSSLKnownAnswer(t *testing.T) {
	pass := vectorPass(t)
	for _, v := range opensslVectors {
		c, err := NewOpenSSL(pass, v.compression, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeAll(c, readVector(t, v.file))
		if err != nil {
			t.Fatalf("%s: %v", v.file, err)
		}
		if !bytes.Equal(got, readVector(t, v.plain)) {
			t.Errorf("%s: decrypted to %d bytes that differ from %s", v.file, len(got), v.plain)
		}
		// The wrong digest's key never passes the magic check, so a
		// one-bit-different passphrase is refused.
		wrong, _ := NewOpenSSL(append(bytes.Clone(pass), '!'), v.compression, nil)
		if _, err := decodeAll(wrong, readVector(t, v.file)); v.plain != "empty" && !errors.Is(err, ErrAuth) {
			t.Errorf("%s with a wrong passphrase: error %v, want ErrAuth", v.file, err)
		}
	}
}

func TestOpenSSLEncoderMatchesCLIByteForByte(t *testing.T) {
	pass := vectorPass(t)
	for _, v := range opensslVectors {
		if !strings.Contains(v.file, "sha256") {
			continue
		}
		want := readVector(t, v.file)
		salt := want[8:16]
		c, err := NewOpenSSL(pass, v.compression, bytes.NewReader(salt))
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeAll(t, c, readVector(t, v.plain)); !bytes.Equal(got, want) {
			t.Errorf("%s: our encryption differs from openssl's", v.file)
		}
	}
}

// encChain builds a chain with cheap KDF settings for tests.
func encChain(t testing.TB, compression, encryption string, pass []byte) *Chain {
	t.Helper()
	if encryption == "" {
		pass = nil
	}
	c, err := NewChain(ChainConfig{
		Compression: compression, Encryption: encryption, Passphrase: pass,
		Encrypt: EncryptOptions{KDF: cheapKDF, ChunkSizeLog2: 16},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChainRoundTripEveryCombination(t *testing.T) {
	for _, comp := range CompressorNames() {
		for _, enc := range []string{"", OpenSSL, FZAE1} {
			for _, size := range testSizes(comp) {
				c := encChain(t, comp, enc, testPass)
				t.Run(fmt.Sprintf("%s/%d", c.Name(), size), func(t *testing.T) {
					data := testData(uint64(size)*3+1, size)
					if comp == None && enc == OpenSSL && size > 0 {
						// Upstream's format is only ever used over a tar
						// stream; the key is recognised by its header.
						data = tarOf(t, data)
					}
					stored := encodeAll(t, c, data)
					if enc != "" && bytes.Contains(stored, data[:min(len(data), 64)]) && size > 64 {
						t.Fatal("plaintext visible in the encrypted stream")
					}
					if got := mustDecode(t, c, stored); !bytes.Equal(got, data) {
						t.Fatalf("round trip changed the data: %d bytes back, want %d", len(got), len(data))
					}
				})
			}
		}
	}
}

// tarOf wraps data in a one-file GNU tar archive made by the tar CLI.
func tarOf(t testing.TB, data []byte) []byte {
	dir := t.TempDir()
	if err := writeFile(filepath.Join(dir, "f"), data); err != nil {
		t.Fatal(err)
	}
	return run(t, nil, "tar", "--format=gnu", "-C", dir, "-cf", "-", "f")
}

func TestChainNames(t *testing.T) {
	if n := encChain(t, Zstd, FZAE1, testPass).Name(); n != "zstd+fzae1" {
		t.Errorf("Name() = %q", n)
	}
	if n := encChain(t, Gzip, "", nil).Name(); n != "gzip" {
		t.Errorf("Name() = %q", n)
	}
	for _, cfg := range []ChainConfig{
		{Compression: "gzip", Encryption: "aes"},
		{Compression: "lz4"},
		{Compression: "gzip", Passphrase: []byte("x")},
		{Compression: "gzip", Encryption: FZAE1},
		{Compression: "gzip", Encryption: FZAE1, Passphrase: []byte("x"), Encrypt: EncryptOptions{KDF: KDFParams{Time: 100, MemoryKiB: 64, Threads: 1}}},
		{Compression: "gzip", Encryption: FZAE1, Passphrase: []byte("x"), Encrypt: EncryptOptions{ChunkSizeLog2: 30}},
	} {
		if _, err := NewChain(cfg); err == nil {
			t.Errorf("NewChain(%+v) accepted a bad configuration", cfg)
		}
	}
}

func TestOpenSSLCLIDecryptsOurs(t *testing.T) {
	passFile := writeTemp(t, "pass", append(bytes.Clone(testPass), '\n'))
	for comp, bin := range cliTools {
		for _, size := range []int{0, 1000, bigFor(comp)} {
			data := testData(uint64(size)+5, size)
			stored := encodeAll(t, encChain(t, comp, OpenSSL, testPass), data)
			compressed := run(t, stored, "openssl", "enc", "-d", "-aes-256-cfb", "-md", "sha256", "-pass", "file:"+passFile)
			if got := run(t, compressed, bin, "-d", "-c"); !bytes.Equal(got, data) {
				t.Errorf("%s, %d bytes: openssl | %s -d gave %d bytes", comp, size, bin, len(got))
			}
			// Without -md: OpenSSL 3's default digest, as upstream runs it.
			compressed = run(t, stored, "openssl", "enc", "-d", "-aes-256-cfb", "-pass", "file:"+passFile)
			if got := run(t, compressed, bin, "-d", "-c"); !bytes.Equal(got, data) {
				t.Errorf("%s, %d bytes: upstream's exact command line did not decrypt ours", comp, size)
			}
		}
	}
}

func TestOpenSSLReadsCLIOutput(t *testing.T) {
	passFile := writeTemp(t, "pass", append(bytes.Clone(testPass), "\nignored\n"...))
	pass, err := ReadPassFile(passFile)
	if err != nil {
		t.Fatal(err)
	}
	for comp, bin := range cliTools {
		for _, md := range []string{"sha256", "md5"} {
			for _, size := range []int{1, 1000, bigFor(comp)} {
				data := testData(uint64(size)+9, size)
				stored := run(t, run(t, data, bin, "-c"), "openssl", "enc", "-aes-256-cfb", "-md", md, "-pass", "file:"+passFile)
				if got := mustDecode(t, encChain(t, comp, OpenSSL, pass), stored); !bytes.Equal(got, data) {
					t.Errorf("%s -md %s, %d bytes: decoded %d bytes", comp, md, size, len(got))
				}
			}
		}
	}
	// An uncompressed tar stream, upstream's layout without compression.
	data := tarOf(t, testData(77, 100_000))
	for _, md := range []string{"sha256", "md5"} {
		stored := run(t, data, "openssl", "enc", "-aes-256-cfb", "-md", md, "-pass", "file:"+passFile)
		if got := mustDecode(t, encChain(t, None, OpenSSL, pass), stored); !bytes.Equal(got, data) {
			t.Errorf("tar -md %s: decoded %d bytes", md, len(got))
		}
	}
}

func TestWrongPassphrase(t *testing.T) {
	data := testData(12, 300_000)
	for _, comp := range CompressorNames() {
		for _, enc := range []string{OpenSSL, FZAE1} {
			in := data
			if comp == None && enc == OpenSSL {
				in = tarOf(t, data)
			}
			stored := encodeAll(t, encChain(t, comp, enc, testPass), in)
			for _, pass := range [][]byte{[]byte("correct horse battery stapl"), []byte("x"), append(bytes.Clone(testPass), '\n')} {
				got, err := decodeAll(encChain(t, comp, enc, pass), stored)
				if !errors.Is(err, ErrAuth) {
					t.Errorf("%s+%s, passphrase %q: got %d bytes, error %v; want ErrAuth", comp, enc, pass, len(got), err)
				}
			}
		}
	}
}

// decodeStored decodes a stored stream through a chain and insists on an
// error.
func wantDecodeError(t *testing.T, c *Chain, stored []byte, what string, mustBeAuth bool) {
	t.Helper()
	got, err := decodeAll(c, stored)
	if err == nil {
		t.Errorf("%s, %s: no error, %d bytes decoded", c.Name(), what, len(got))
		return
	}
	if mustBeAuth && !errors.Is(err, ErrAuth) {
		t.Errorf("%s, %s: error %v does not wrap ErrAuth", c.Name(), what, err)
	}
}

func TestFZAE1DetectsTampering(t *testing.T) {
	const chunk = 1 << 12
	c, err := NewChain(ChainConfig{Compression: None, Encryption: FZAE1, Passphrase: testPass,
		Encrypt: EncryptOptions{KDF: cheapKDF, ChunkSizeLog2: 12}})
	if err != nil {
		t.Fatal(err)
	}
	data := testData(99, 5*chunk+100) // 6 chunks
	stored := encodeAll(t, c, data)
	const ct = chunk + 16
	if want := fzae1HeaderLen + 5*ct + 100 + 16; len(stored) != want {
		t.Fatalf("stored %d bytes, want %d", len(stored), want)
	}
	body := func(i int) []byte { return stored[fzae1HeaderLen+i*ct : min(fzae1HeaderLen+(i+1)*ct, len(stored))] }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	hdr := stored[:fzae1HeaderLen]
	cases := map[string][]byte{
		"empty":                    {},
		"header only":              hdr,
		"header cut":               stored[:30],
		"cut inside a chunk":       stored[:fzae1HeaderLen+2*ct+77],
		"cut at a chunk boundary":  stored[:fzae1HeaderLen+3*ct],
		"last chunk removed":       stored[:len(stored)-116],
		"middle chunk removed":     cat(hdr, body(0), body(2), body(3), body(4), body(5)),
		"chunks swapped":           cat(hdr, body(1), body(0), body(2), body(3), body(4), body(5)),
		"chunk duplicated":         cat(hdr, body(0), body(0), body(1), body(2), body(3), body(4), body(5)),
		"garbage appended":         cat(stored, []byte("x")),
		"stream appended":          cat(stored, stored),
		"tag cut":                  stored[:len(stored)-1],
		"other stream's chunk":     cat(hdr, encodeAll(t, c, data)[fzae1HeaderLen:fzae1HeaderLen+ct], body(1), body(2), body(3), body(4), body(5)),
		"other stream's header":    cat(encodeAll(t, c, data)[:fzae1HeaderLen], stored[fzae1HeaderLen:]),
		"last chunk marked as mid": nil, // filled below
	}
	// A final chunk that is full-size but cut: re-encrypt exactly 3 chunks
	// and drop the last, so the stream ends on a full non-final chunk.
	full := encodeAll(t, c, data[:3*chunk])
	cases["last chunk marked as mid"] = full[:fzae1HeaderLen+2*ct]
	for what, in := range cases {
		wantDecodeError(t, c, in, what, true)
	}
	// Every single-bit flip at a sample of positions, header included.
	for pos := 0; pos < len(stored); pos += 97 {
		for _, bit := range []byte{0x01, 0x80} {
			flipped := bytes.Clone(stored)
			flipped[pos] ^= bit
			wantDecodeError(t, c, flipped, fmt.Sprintf("bit %#x flipped at %d", bit, pos), true)
		}
	}
	// The untouched stream still decodes.
	if got := mustDecode(t, c, stored); !bytes.Equal(got, data) {
		t.Fatal("untouched stream did not decode")
	}
}

func TestFZAE1HostileHeader(t *testing.T) {
	c := encChain(t, None, FZAE1, testPass)
	stored := encodeAll(t, c, []byte("hello"))
	mut := func(f func(h []byte)) []byte {
		b := bytes.Clone(stored)
		f(b)
		return b
	}
	cases := map[string][]byte{
		"huge memory":   mut(func(h []byte) { copy(h[12:16], []byte{0xff, 0xff, 0xff, 0xff}) }),
		"many passes":   mut(func(h []byte) { copy(h[8:12], []byte{0, 0, 1, 0}) }),
		"zero threads":  mut(func(h []byte) { h[7] = 0 }),
		"huge chunk":    mut(func(h []byte) { h[16] = 40 }),
		"tiny chunk":    mut(func(h []byte) { h[16] = 2 }),
		"version 2":     mut(func(h []byte) { h[5] = 2 }),
		"kdf 2":         mut(func(h []byte) { h[6] = 2 }),
		"other magic":   mut(func(h []byte) { h[0] = 'X' }),
		"openssl input": append([]byte("Salted__12345678"), make([]byte, 100)...),
	}
	for what, in := range cases {
		wantDecodeError(t, c, in, what, true)
	}
}

func TestFZAE1DefaultCostRoundTrip(t *testing.T) {
	c, err := NewChain(ChainConfig{Compression: Zstd, Encryption: FZAE1, Passphrase: testPass})
	if err != nil {
		t.Fatal(err)
	}
	data := testData(1, bigSize())
	stored := encodeAll(t, c, data)
	h := stored[:fzae1HeaderLen]
	if string(h[:5]) != "FZAE1" || h[5] != 1 || h[6] != 1 || h[7] != 2 || h[16] != 20 ||
		!bytes.Equal(h[8:16], []byte{0, 0, 0, 3, 0, 0, 0x80, 0}) {
		t.Fatalf("header %x does not carry the default parameters", h)
	}
	if got := mustDecode(t, c, stored); !bytes.Equal(got, data) {
		t.Fatal("round trip changed the data")
	}
	// Two encryptions of the same data differ (random salt and nonce).
	if bytes.Equal(stored[:64], encodeAll(t, c, data)[:64]) {
		t.Fatal("two streams share salt and nonce")
	}
}

func TestFZAE1EmptyPassphraseRefused(t *testing.T) {
	if _, err := NewFZAE1(nil, FZAE1Options{}); err == nil {
		t.Fatal("empty passphrase accepted")
	}
}

func TestFZAE1KnownAnswer(t *testing.T) {
	// testdata/fzae1/ pins the format: a stream written once (with fixed
	// salt and nonce) must decode forever, and the encoder must still
	// produce it byte for byte.
	plain := testData(2024, 3*4096+123)
	c, err := NewFZAE1([]byte("freezer test passphrase"), FZAE1Options{
		KDF: KDFParams{Time: 2, MemoryKiB: 1024, Threads: 2}, ChunkSizeLog2: 12,
		Rand: bytes.NewReader(bytes.Repeat([]byte{0xa5}, 32)),
	})
	if err != nil {
		t.Fatal(err)
	}
	path := "testdata/fzae1/vector.fzae1"
	if os.Getenv("FREEZER_WRITE_VECTORS") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, encodeAll(t, c, plain), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustDecode(t, c, want); !bytes.Equal(got, plain) {
		t.Fatal("the committed vector no longer decodes to its plaintext")
	}
	c2, _ := NewFZAE1([]byte("freezer test passphrase"), FZAE1Options{
		KDF: KDFParams{Time: 2, MemoryKiB: 1024, Threads: 2}, ChunkSizeLog2: 12,
		Rand: bytes.NewReader(bytes.Repeat([]byte{0xa5}, 32)),
	})
	if got := encodeAll(t, c2, plain); !bytes.Equal(got, want) {
		t.Fatal("the encoder no longer produces the committed vector")
	}
}

func TestOpenSSLTamperedDetectedByCompression(t *testing.T) {
	// The OpenSSL format cannot authenticate; over a checksummed
	// compression a change still fails the restore.
	data := testData(5, 400_000)
	for _, comp := range []string{Gzip, Bzip2, Xz, Zstd, Zlib} {
		c := encChain(t, comp, OpenSSL, testPass)
		stored := encodeAll(t, c, data)
		wantDecodeError(t, c, stored[:len(stored)/2], "truncated", false)
		wantDecodeError(t, c, stored[:len(stored)-3], "tail cut", false)
		wantDecodeError(t, c, stored[:10], "header cut", true)
		flipped := bytes.Clone(stored)
		flipped[len(stored)*2/3] ^= 0x04
		wantDecodeError(t, c, flipped, "bit flipped", false)
		wantDecodeError(t, c, append([]byte("Salted_X"), stored[8:]...), "bad magic", true)
	}
}

func TestChainErrorsPropagate(t *testing.T) {
	for _, enc := range []string{OpenSSL, FZAE1} {
		for _, comp := range []string{Gzip, Zstd, Bzip2} {
			data := testData(6, bigFor(comp))
			c := encChain(t, comp, enc, testPass)
			w, err := c.Encode(&failWriter{n: 5000})
			if err != nil {
				t.Fatal(err)
			}
			_, werr := w.Write(data)
			cerr := w.Close()
			if !errors.Is(werr, errTestWrite) && !errors.Is(cerr, errTestWrite) {
				t.Errorf("%s: write failure lost: Write=%v Close=%v", c.Name(), werr, cerr)
			}
			// A read failure under the decryption surfaces as itself.
			stored := encodeAll(t, c, data)
			r, err := c.Decode(io.MultiReader(bytes.NewReader(stored[:len(stored)/2]), errReader{}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(r)
			r.Close()
			if !errors.Is(err, errTestRead) {
				t.Errorf("%s: read failure became %v", c.Name(), err)
			}
		}
	}
}

var errTestRead = errors.New("test read failure")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errTestRead }

var _ backup.Codec = (*Chain)(nil)

func TestFZAE1ChunkBoundaries(t *testing.T) {
	// Sizes around and at multiples of the chunk size: a full last chunk
	// is sealed as last, never followed by an empty one.
	const size = 4096
	c, err := NewChain(ChainConfig{Compression: None, Encryption: FZAE1, Passphrase: testPass,
		Encrypt: EncryptOptions{KDF: cheapKDF, ChunkSizeLog2: 12}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, size - 1, size, size + 1, 2 * size, 3*size - 1, 3 * size} {
		data := testData(uint64(n), n)
		stored := encodeAll(t, c, data)
		chunks := max(1, (n+size-1)/size)
		if want := fzae1HeaderLen + n + chunks*fzae1TagLen; len(stored) != want {
			t.Errorf("%d bytes: stored %d, want %d (%d chunks)", n, len(stored), want, chunks)
		}
		if got := mustDecode(t, c, stored); !bytes.Equal(got, data) {
			t.Errorf("%d bytes: round trip changed the data", n)
		}
		// Reading in 1-byte steps gives the same.
		r, err := c.Decode(bytes.NewReader(stored))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(io.LimitReader(oneByteReader{r}, int64(n)+10))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes read one at a time: %d bytes, %v", n, len(got), err)
		}
	}
}

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestCFB128AnySplitGivesSameStream(t *testing.T) {
	// CFB must be a pure stream: how the input is cut into writes or
	// reads cannot change the output. Checked against one-shot use and
	// against the OpenSSL vector.
	pass := vectorPass(t)
	want := readVector(t, "plain.tar.sha256.enc")
	plain := readVector(t, "plain.tar")
	k, err := (&opensslCodec{pass: pass}).keyIV(sha256.New, want[8:16])
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{1, 3, 15, 16, 17, 31, 100, 4096} {
		enc := newCFB128(k.block, k.iv, false)
		dec := newCFB128(k.block, k.iv, true)
		ct := make([]byte, len(plain))
		pt := make([]byte, len(plain))
		for off := 0; off < len(plain); off += step {
			end := min(off+step, len(plain))
			enc.XORKeyStream(ct[off:end], plain[off:end])
		}
		// Decrypt in place, with a different split.
		copy(pt, ct)
		for off := 0; off < len(pt); off += step + 5 {
			end := min(off+step+5, len(pt))
			dec.XORKeyStream(pt[off:end], pt[off:end])
		}
		if !bytes.Equal(ct, want[16:]) {
			t.Errorf("step %d: ciphertext differs from openssl's", step)
		}
		if !bytes.Equal(pt, plain) {
			t.Errorf("step %d: decryption differs", step)
		}
	}
}

// An uncompressed rsync payload under the openssl format: the right
// passphrase opens it, wrong ones do not, and random plaintexts almost
// never pass for one.
func TestOpenSSLMsgpackList(t *testing.T) {
	// [{"path": "f", ...}] as the rsync engine writes it.
	list := append([]byte{0x91, 0x82, 0xa4, 'p', 'a', 't', 'h', 0xa1, 'f'}, testData(13, 5000)...)
	enc := func(pass []byte) backup.Codec {
		c, err := NewOpenSSL(pass, MsgpackList, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var stored bytes.Buffer
	w, err := enc(testPass).Encode(&stored)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(list)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := enc(testPass).Decode(bytes.NewReader(stored.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, list) {
		t.Fatalf("round trip: %d bytes, %v", len(got), err)
	}
	for _, pass := range [][]byte{[]byte("x"), []byte("correct horse battery stapl")} {
		if _, err := enc(pass).Decode(bytes.NewReader(stored.Bytes())); !errors.Is(err, ErrAuth) {
			t.Errorf("passphrase %q: %v, want ErrAuth", pass, err)
		}
	}
	// The empty list is the whole of an empty level's stream.
	if !plausibleMsgpackList([]byte{0x90}) || plausibleMsgpackList([]byte{0x90, 0}) {
		t.Error("empty list misjudged")
	}
	pass := 0
	for i := range 100_000 {
		if plausibleMsgpackList(testData(uint64(i), probeLen)) {
			pass++
		}
	}
	if pass > 200 {
		t.Errorf("%d of 100000 random probes pass, want about 70", pass)
	}
}
