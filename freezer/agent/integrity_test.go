package agent

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// replacePayload backs up src uncompressed, then stores what edit makes of
// the payload in its place, as damage or tampering in the storage would.
func replacePayload(t *testing.T, a *Agent, src string, edit func([]byte) []byte) {
	t.Helper()
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	key := committed(t, a)[0].DataKey()
	rc, err := a.Storage.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Storage.Put(context.Background(), key, bytes.NewReader(edit(b))); err != nil {
		t.Fatal(err)
	}
}

// resealPayload is replacePayload with the metadata's size and hash made
// to match the new payload, as a backup that wrote it would have: the
// payload then passes the integrity checks.
func resealPayload(t *testing.T, a *Agent, src string, payload []byte) {
	t.Helper()
	replacePayload(t, a, src, func([]byte) []byte { return payload })
	ref := committed(t, a)[0]
	md, err := a.readMetadata(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	md.DataSize, md.DataSHA256 = int64(len(payload)), hex.EncodeToString(sum[:])
	line, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Storage.Put(context.Background(), ref.MetadataKey(), bytes.NewReader(append(line, '\n'))); err != nil {
		t.Fatal(err)
	}
}

func restoreOpts(dst string) Options {
	return Options{Action: ActionRestore, Mode: "fs", Engine: "tar", BackupName: "b", Hostname: "h", RestoreAbsPath: dst}
}

// TestDamagedArchiveIsAnIntegrityError: a payload that the storage reads
// and the codecs decode without error but whose tar stream is bad is
// corrupt data (exit 4), as the help text documents, not a plain failure.
func TestDamagedArchiveIsAnIntegrityError(t *testing.T) {
	hostile := func(t *testing.T) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(&tar.Header{Name: "../escaped", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte("evil"))
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	cases := map[string]struct {
		edit func(t *testing.T, b []byte) []byte
		want string
	}{
		"header byte flipped": {func(t *testing.T, b []byte) []byte { b[0] ^= 0x01; return b }, "invalid tar header"},
		"cut in a member":     {func(t *testing.T, b []byte) []byte { return b[:len(b)/2] }, "unexpected EOF"},
		"cut between members": {func(t *testing.T, b []byte) []byte {
			// The second header starts 257 bytes before its magic.
			i := bytes.Index(b[512:], []byte("ustar"))
			if i < 0 {
				t.Fatal("no second header")
			}
			return b[:512+i-257]
		}, "no end-of-archive marker"},
		"unsafe path": {func(t *testing.T, _ []byte) []byte { return hostile(t) }, "unsafe path"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a, _ := newTestAgent(t)
			replacePayload(t, a, testTree(t), func(b []byte) []byte { return c.edit(t, b) })
			_, err := a.Run(context.Background(), restoreOpts(filepath.Join(t.TempDir(), "dst")))
			if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want an integrity error mentioning %q", err, c.want)
			}
		})
	}
}

// TestTargetFailureIsNotAnIntegrityError: a good archive that the target
// file system cannot take (here a name longer than any Linux or BSD file
// system allows, which fails the same for root) is an ordinary failure,
// not corrupt data.
func TestTargetFailureIsNotAnIntegrityError(t *testing.T) {
	a, _ := newTestAgent(t)
	src := testTree(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: strings.Repeat("n", 300), Typeflag: tar.TypeReg, Mode: 0o644, Size: 4}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("data"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	resealPayload(t, a, src, buf.Bytes())
	_, err := a.Run(context.Background(), restoreOpts(filepath.Join(t.TempDir(), "dst")))
	if err == nil || errors.Is(err, ErrIntegrity) {
		t.Fatalf("err = %v; want a failure that is not an integrity error", err)
	}
}
