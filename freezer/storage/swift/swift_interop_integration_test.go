//go:build integration

package swift

import (
	"context"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// pythonAgent runs the upstream Python freezer-agent (Debian 13.0) as the
// demo user against the same Swift.
func pythonAgent(t *testing.T, args ...string) {
	t.Helper()
	env := testenv.Load(t)
	storagetest.RunPythonAgent(t, env.Get(t, "PYTHON_FREEZER_AGENT"), append(env.OSEnv("DEMO"),
		"OS_REGION_NAME="+env.Get(t, "OS_REGION_NAME"), "OS_IDENTITY_API_VERSION=3"), args...)
}

// TestSwiftReadsPythonAgentBackup: a backup written by the Python agent
// (swiftclient, DLO) is found and read by this storage.
func TestSwiftReadsPythonAgentBackup(t *testing.T) {
	run := uniq(t)
	container := testContainer + "-py-" + run[len(run)-12:]
	src := t.TempDir()
	files := storagetest.WriteTree(t, src)
	pythonAgent(t, "--action", "backup", "--mode", "fs", "--storage", "swift", "--container", container,
		"--path-to-backup", src, "--backup-name", "bk", "--hostname", "pyhost", "--max-segment-size", "1048576")

	ctx := context.Background()
	s, err := New(ctx, demoOptions(t, container))
	if err != nil {
		t.Fatal(err)
	}
	defer dropContainer(t, s)
	ref := storagetest.CheckTarBackup(t, s, "pyhost_bk", files)
	if got := mustList(t, s, ref.DataDir()); strings.Join(got, ",") != "data,engine_metadata,segments" {
		t.Fatalf("data dir holds %q", got)
	}
}

// TestPythonAgentRestoresSwiftBackup: a backup this storage writes (GNU tar
// + gzip stream, segments + manifest, metadata written last) is restored
// by the Python agent.
func TestPythonAgentRestoresSwiftBackup(t *testing.T) {
	run := uniq(t)
	container := testContainer + "-go-" + run[len(run)-12:]
	src := t.TempDir()
	files := storagetest.WriteTree(t, src)
	ctx := context.Background()
	s, err := New(ctx, demoOptions(t, container))
	if err != nil {
		t.Fatal(err)
	}
	defer dropContainer(t, s)
	ts := time.Now().Unix() - 60
	storagetest.WriteTarBackup(t, s, backup.Ref{Engine: "tar", Name: "gohost_bk", L0: ts, TS: ts}, src)
	dst := t.TempDir()
	pythonAgent(t, "--action", "restore", "--mode", "fs", "--storage", "swift", "--container", container,
		"--restore-abs-path", dst, "--backup-name", "bk", "--hostname", "gohost", "--max-segment-size", "1048576")
	storagetest.CheckTree(t, dst, files)
}
