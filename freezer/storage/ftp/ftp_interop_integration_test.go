//go:build integration

package ftp

import (
	"context"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// TestFTPReadsPythonAgentBackup: this storage reads a backup the Python
// agent wrote over FTP. (The Python 13.0 agent cannot show the reverse:
// its ftp restore never ends, a known upstream bug.)
func TestFTPReadsPythonAgentBackup(t *testing.T) {
	env := testenv.Load(t)
	s := newTest(t, false)
	ctx := context.Background()
	// Upstream's ftp backup crashes when the metadata directory is
	// missing (a Python 2 idiom); create it, as its users must.
	if err := s.Put(ctx, "metadata/tar/pyhost_bk/x", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "metadata/tar/pyhost_bk/x"); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	files := storagetest.WriteTree(t, src)
	storagetest.RunPythonAgent(t, env.Get(t, "PYTHON_FREEZER_AGENT"), env.OSEnv("DEMO"),
		"--action", "backup", "--mode", "fs", "--path-to-backup", src, "--backup-name", "bk", "--hostname", "pyhost",
		"--storage", "ftp", "--container", s.root,
		"--ftp-host", env.Get(t, "FTP_HOST"), "--ftp-port", env.Get(t, "FTP_PORT"),
		"--ftp-username", env.Get(t, "FTP_USER"), "--ftp-password", env.Get(t, "FTP_PASS"))
	storagetest.CheckTarBackup(t, s, "pyhost_bk", files)
}
