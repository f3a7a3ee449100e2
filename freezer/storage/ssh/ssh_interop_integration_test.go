//go:build integration

package ssh

import (
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

func pythonSSH(t *testing.T, container string, args ...string) {
	env := testenv.Load(t)
	// The Python agent builds OpenStack clients even for ssh storage.
	storagetest.RunPythonAgent(t, env.Get(t, "PYTHON_FREEZER_AGENT"), env.OSEnv("DEMO"), append(args,
		"--storage", "ssh", "--container", container,
		"--ssh-host", env.Get(t, "SSH_HOST"), "--ssh-port", env.Get(t, "SSH_PORT"),
		"--ssh-username", env.Get(t, "SSH_USER"), "--ssh-key", env.Get(t, "SSH_KEY"))...)
}

// TestSFTPInteropWithPythonAgent: this storage reads the Python agent's
// ssh backup, and the Python agent restores one written here.
func TestSFTPInteropWithPythonAgent(t *testing.T) {
	s := newTest(t)
	src := t.TempDir()
	files := storagetest.WriteTree(t, src)
	pythonSSH(t, s.root, "--action", "backup", "--mode", "fs", "--path-to-backup", src, "--backup-name", "bk", "--hostname", "pyhost")
	storagetest.CheckTarBackup(t, s, "pyhost_bk", files)

	ts := time.Now().Unix() - 60
	storagetest.WriteTarBackup(t, s, backup.Ref{Engine: "tar", Name: "gohost_bk", L0: ts, TS: ts}, src)
	dst := t.TempDir()
	pythonSSH(t, s.root, "--action", "restore", "--mode", "fs", "--restore-abs-path", dst, "--backup-name", "bk", "--hostname", "gohost")
	storagetest.CheckTree(t, dst, files)
}
