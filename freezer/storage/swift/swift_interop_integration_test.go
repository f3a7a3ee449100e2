//go:build integration

package swift

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
	"freezer.dev/freezer/internal/testutil/testenv"
)

// pythonAgent runs the upstream Python freezer-agent (Debian 13.0) as the
// demo user against the same Swift.
func pythonAgent(t *testing.T, args ...string) {
	t.Helper()
	env := testenv.Load(t)
	home := t.TempDir()
	cmd := exec.Command(env.Get(t, "PYTHON_FREEZER_AGENT"), append(args, "--log-file", filepath.Join(home, "agent.log"))...)
	cmd.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "PYTHONWARNINGS=ignore",
		"OS_AUTH_URL=" + env.Get(t, "OS_AUTH_URL"),
		"OS_USERNAME=" + env.Get(t, "DEMO_OS_USERNAME"),
		"OS_PASSWORD=" + env.Get(t, "DEMO_OS_PASSWORD"),
		"OS_PROJECT_NAME=" + env.Get(t, "DEMO_OS_PROJECT_NAME"),
		"OS_USER_DOMAIN_NAME=" + env.Get(t, "DEMO_OS_USER_DOMAIN_NAME"),
		"OS_PROJECT_DOMAIN_NAME=" + env.Get(t, "DEMO_OS_PROJECT_DOMAIN_NAME"),
		"OS_REGION_NAME=" + env.Get(t, "OS_REGION_NAME"),
		"OS_IDENTITY_API_VERSION=3",
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		logb, _ := os.ReadFile(filepath.Join(home, "agent.log"))
		t.Fatalf("python freezer-agent %s: %v\n%s\nlog tail:\n%s", strings.Join(args, " "), err, out, tail(logb, 3000))
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func writeTree(t *testing.T, dir string) map[string][]byte {
	files := map[string][]byte{
		"a.txt":          []byte("hello from the interop test\n"),
		"sub/b.bin":      bytes.Repeat([]byte{0, 1, 2, 250}, 700_000), // spans several 1 MiB segments
		"sub/deep/c.txt": []byte("deep"),
	}
	for p, b := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestSwiftReadsPythonAgentBackup: a backup written by the Python agent
// (swiftclient, DLO) is found and read by this storage.
func TestSwiftReadsPythonAgentBackup(t *testing.T) {
	run := uniq(t)
	container := testContainer + "-py-" + run[len(run)-12:]
	src := t.TempDir()
	files := writeTree(t, src)
	pythonAgent(t, "--action", "backup", "--mode", "fs", "--storage", "swift", "--container", container,
		"--path-to-backup", src, "--backup-name", "bk", "--hostname", "pyhost", "--max-segment-size", "1048576")

	ctx := context.Background()
	s, err := New(ctx, demoOptions(t, container))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, d := range []string{"data", "metadata"} {
			s.Delete(ctx, d)
		}
	}()
	chains := mustList(t, s, backup.ChainsDir("tar", "pyhost_bk"))
	if len(chains) != 1 {
		t.Fatalf("chains %q", chains)
	}
	l0, _ := strconv.ParseInt(chains[0], 10, 64)
	levels := mustList(t, s, backup.ChainDir("tar", "pyhost_bk", l0))
	if len(levels) != 1 || !strings.HasPrefix(levels[0], "0_") {
		t.Fatalf("levels %q", levels)
	}
	level, ts, err := backup.ParseLevelDir(levels[0])
	if err != nil {
		t.Fatal(err)
	}
	ref := backup.Ref{Engine: "tar", Name: "pyhost_bk", L0: l0, Level: level, TS: ts}
	rc, err := s.Get(ctx, ref.MetadataKey())
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(rc)
	rc.Close()
	md, err := backup.DecodeMetadata(mb)
	if err != nil || md.Compression != "gzip" || md.Encryption {
		t.Fatalf("metadata %q: %+v %v", mb, md, err)
	}
	if got := mustList(t, s, ref.DataDir()); strings.Join(got, ",") != "data,engine_metadata,segments" {
		t.Fatalf("data dir holds %q", got)
	}
	rc, err = s.Get(ctx, ref.DataKey())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the Python agent's tar stream: %v", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if want, ok := files[name]; ok {
			b, _ := io.ReadAll(tr)
			if !bytes.Equal(b, want) {
				t.Fatalf("%s differs", name)
			}
			seen[name] = true
		}
	}
	if len(seen) != len(files) {
		t.Fatalf("found %v of %d files", seen, len(files))
	}
}

// TestPythonAgentRestoresSwiftBackup: a backup this storage writes (GNU tar
// + gzip stream, segments + manifest, metadata written last) is restored
// by the Python agent.
func TestPythonAgentRestoresSwiftBackup(t *testing.T) {
	run := uniq(t)
	container := testContainer + "-go-" + run[len(run)-12:]
	src := t.TempDir()
	files := writeTree(t, src)
	ctx := context.Background()
	s, err := New(ctx, demoOptions(t, container))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, d := range []string{"data", "metadata"} {
			s.Delete(ctx, d)
		}
	}()
	ts := time.Now().Unix() - 60
	ref := backup.Ref{Engine: "tar", Name: "gohost_bk", L0: ts, Level: 0, TS: ts}
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
	if err := s.Put(ctx, ref.DataKey(), out); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	sb, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, ref.EngineMetadataKey(), bytes.NewReader(sb)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, ref.MetadataKey(), strings.NewReader(`{"engine_name": "tar", "compression": "gzip", "encryption": false}`)); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	pythonAgent(t, "--action", "restore", "--mode", "fs", "--storage", "swift", "--container", container,
		"--restore-abs-path", dst, "--backup-name", "bk", "--hostname", "gohost", "--max-segment-size", "1048576")
	for p, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, p))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s after the Python restore: %v (equal %v)", p, err, bytes.Equal(got, want))
		}
	}
}
