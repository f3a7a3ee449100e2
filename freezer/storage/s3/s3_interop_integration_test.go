//go:build integration

package s3

import (
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// TestPythonAgentRestoresS3Backup: the Python agent (botocore) restores a
// backup this storage wrote as one multipart object. (The reverse cannot
// be shown: the Python 13.0 agent never writes the metadata object on S3,
// see the test environment notes.)
func TestPythonAgentRestoresS3Backup(t *testing.T) {
	env := testenv.Load(t)
	s := newTest(t, nil)
	src := t.TempDir()
	files := storagetest.WriteTree(t, src)
	ts := time.Now().Unix() - 60
	storagetest.WriteTarBackup(t, s, backup.Ref{Engine: "tar", Name: "gohost_bk", L0: ts, TS: ts}, src)
	dst := t.TempDir()
	storagetest.RunPythonAgent(t, env.Get(t, "PYTHON_FREEZER_AGENT"), env.OSEnv("DEMO"),
		"--action", "restore", "--mode", "fs", "--restore-abs-path", dst, "--backup-name", "bk", "--hostname", "gohost",
		"--storage", "s3", "--container", s.bucket+"/"+s.prefix, "--max-segment-size", "5242880",
		"--endpoint", env.Get(t, "S3_ENDPOINT"), "--access-key", env.Get(t, "DEMO_S3_ACCESS_KEY"), "--secret-key", env.Get(t, "DEMO_S3_SECRET_KEY"))
	storagetest.CheckTree(t, dst, files)
}
