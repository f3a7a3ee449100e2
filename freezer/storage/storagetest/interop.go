package storagetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// Helpers for interoperability tests with the upstream Python agent: a
// backend's integration test has the Python agent write a backup that the
// backend then reads (CheckTarBackup), and writes one the Python agent
// then restores (WriteTarBackup, CheckTree).

// WriteTree fills dir with a few files (one spanning several 1 MiB
// segments) and returns their contents by relative path.
func WriteTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{
		"a.txt":          []byte("hello from the interop test\n"),
		"sub/b.bin":      bytes.Repeat([]byte{0, 1, 2, 250}, 700_000),
		"sub/deep/c.txt": []byte("deep"),
	}
	for p, b := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// CheckTree fails unless dir holds files.
func CheckTree(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s in %s: %v (equal %v)", p, dir, err, bytes.Equal(got, want))
		}
	}
}

// RunPythonAgent runs the upstream freezer-agent at agentPath with env
// (KEY=VALUE, added to a clean PATH/HOME) and fails with its log on error.
func RunPythonAgent(t testing.TB, agentPath string, env []string, args ...string) {
	t.Helper()
	home := t.TempDir()
	logf := filepath.Join(home, "agent.log")
	// Upstream's ftp restore can spin forever; never wait for it long.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentPath, append(args, "--log-file", logf)...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "PYTHONWARNINGS=ignore"}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		logb, _ := os.ReadFile(logf)
		if len(logb) > 3000 {
			logb = logb[len(logb)-3000:]
		}
		t.Fatalf("python freezer-agent %s: %v\n%s\nlog tail:\n%s", strings.Join(args, " "), err, out, logb)
	}
}

// WriteTarBackup stores a level-0 tar backup of src under ref the way the
// agent does: a GNU tar + gzip payload, the tar snapshot as
// engine_metadata, and the metadata object last.
func WriteTarBackup(t testing.TB, st backup.Storage, ref backup.Ref, src string) {
	t.Helper()
	ctx := context.Background()
	snap := filepath.Join(t.TempDir(), "snapshot")
	cmd := exec.Command("tar", "--create", "-z", "--warning=none", "--no-check-device", "--one-file-system",
		"--preserve-permissions", "--same-owner", "--seek", "--ignore-failed-read", "--listed-incremental="+snap, ".")
	cmd.Dir = src
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, ref.DataKey(), out); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	sb, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, ref.EngineMetadataKey(), bytes.NewReader(sb)); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, ref.MetadataKey(), strings.NewReader(`{"engine_name": "tar", "compression": "gzip", "encryption": false}`)); err != nil {
		t.Fatal(err)
	}
}

// CheckTarBackup finds the single level-0 backup of name ("<host>_<bk>")
// in st, checks its metadata and that its payload holds files, and
// returns its Ref.
func CheckTarBackup(t testing.TB, st backup.Storage, name string, files map[string][]byte) backup.Ref {
	t.Helper()
	ctx := context.Background()
	chains, err := st.List(ctx, backup.ChainsDir("tar", name))
	if err != nil || len(chains) != 1 {
		t.Fatalf("chains of %s: %q, %v", name, chains, err)
	}
	l0, err := strconv.ParseInt(chains[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	levels, err := st.List(ctx, backup.ChainDir("tar", name, l0))
	if err != nil || len(levels) != 1 {
		t.Fatalf("levels: %q, %v", levels, err)
	}
	level, ts, err := backup.ParseLevelDir(levels[0])
	if err != nil || level != 0 || ts != l0 {
		t.Fatalf("level dir %q: %v", levels[0], err)
	}
	ref := backup.Ref{Engine: "tar", Name: name, L0: l0, Level: level, TS: ts}
	rc, err := st.Get(ctx, ref.MetadataKey())
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(rc)
	rc.Close()
	md, err := backup.DecodeMetadata(mb)
	if err != nil || md.Compression != "gzip" || md.Encryption {
		t.Fatalf("metadata %q: %+v %v", mb, md, err)
	}
	rc, err = st.Get(ctx, ref.DataKey())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	seen := 0
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the payload's tar stream: %v", err)
		}
		if want, ok := files[strings.TrimPrefix(h.Name, "./")]; ok {
			b, _ := io.ReadAll(tr)
			if !bytes.Equal(b, want) {
				t.Fatalf("%s differs in the payload", h.Name)
			}
			seen++
		}
	}
	if seen != len(files) {
		t.Fatalf("payload holds %d of %d files", seen, len(files))
	}
	return ref
}
