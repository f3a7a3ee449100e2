//go:build integration

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// TestIntegrationPythonSchedulerOnGoAPI is the migration order the
// operators' guide gives, API first: the upstream scheduler (Debian
// freezer-scheduler) still runs on a node while our freezer-api serves it
// behind the real Keystone. The Python scheduler registers its client,
// polls our API, runs a backup job and a restore job (Swift), reports both,
// and uploads the backup's metadata, which the API lists. It runs the
// Python agent, and then ours (the node's agent swapped first): upstream's
// scheduler takes whichever freezer-agent is first on PATH.
func TestIntegrationPythonSchedulerOnGoAPI(t *testing.T) {
	t.Run("python agent", func(t *testing.T) { pythonScheduler(t, "") })
	t.Run("our agent", func(t *testing.T) { pythonScheduler(t, binaries(t)) })
}

func pythonScheduler(t *testing.T, agentDir string) {
	w := newWorld(t)
	dir := t.TempDir()
	node := "py1"
	logf := filepath.Join(dir, "scheduler.log")
	cmd := exec.Command("/usr/bin/freezer-scheduler", "--client-id", w.clientID(node), "--conf", filepath.Join(dir, "jobs"),
		"--interval", "2", "--os-backup-url", w.url, "--log-file", logf, "--debug", "--no-daemon", "start")
	// Debian's Python stack (no pyenv on PATH); the freezer-agent is found
	// on PATH, as upstream's scheduler looks for it.
	path := "/usr/sbin:/usr/bin:/sbin:/bin"
	if agentDir != "" {
		path = agentDir + ":" + path
	}
	cmd.Env = []string{"PATH=" + path, "HOME=" + dir, "PYTHONWARNINGS=ignore"}
	for k, v := range w.demo {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf)
			t.Logf("python scheduler output:\n%s\nlog:\n%s", tail(out.String(), 4000), tail(string(b), 8000))
		}
	})

	// The Python scheduler registers its node with our API.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := w.api.GetClient(t.Context(), w.clientID(node)); err == nil && c.Client.ClientID == w.clientID(node) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Python scheduler did not register %s", w.clientID(node))
		}
		time.Sleep(500 * time.Millisecond)
	}

	w.backupThenRestore(node, w.prefix+"-pyb", func() string { b, _ := os.ReadFile(logf); return string(b) })
}

// TestIntegrationOurSchedulerRunsThePythonAgent is the node whose
// scheduler was swapped before its agent: our freezer-scheduler runs the
// upstream agent (Debian python3-freezer) for a backup and a restore job
// (Swift), reads its result and uploads the backup's metadata. Action
// values with "%" reach the Python agent unchanged (its configparser reads
// the "%%" our job file writes).
func TestIntegrationOurSchedulerRunsThePythonAgent(t *testing.T) {
	w := newWorld(t)
	w.agent = "/usr/bin/freezer-agent"
	s := w.startScheduler("pa1", "")
	w.backupThenRestore("pa1", w.prefix+"-100%-pab", s.logText)
}

// TestIntegrationOurSchedulerOnPythonAPI is the other order: a node's
// scheduler and agent are ours while the upstream freezer-api (Debian
// python3-freezer-api under uwsgi, tools/testenv/up.sh freezer-api-py)
// still serves the cloud. Our scheduler registers, polls, runs a backup and
// a restore job, reports them and uploads the backup's metadata there.
func TestIntegrationOurSchedulerOnPythonAPI(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "tools", "testenv", "up.sh")
	if b, err := exec.Command("bash", up, "freezer-api-py").CombinedOutput(); err != nil {
		t.Fatalf("starting the upstream freezer-api: %v\n%s", err, b)
	}
	w := newWorld(t)
	pyURL := "http://127.0.0.1:" + testenv.Load(t).Get(t, "FREEZER_API_PORT_PY")
	w.url, w.demo["OS_BACKUP_URL"] = pyURL, pyURL
	w.api, err = client.Authenticate(t.Context(), client.AuthOptions{AuthURL: w.demo["OS_AUTH_URL"], Username: w.demo["OS_USERNAME"],
		Password: w.demo["OS_PASSWORD"], ProjectName: w.demo["OS_PROJECT_NAME"], UserDomainName: "Default",
		ProjectDomainName: "Default", Endpoint: pyURL})
	if err != nil {
		t.Fatal(err)
	}
	s := w.startScheduler("op1", "")
	w.backupThenRestore("op1", w.prefix+"-onpyb", s.logText)
	if strings.Contains(s.logText(), "level=error") {
		t.Errorf("our scheduler logged errors against the Python API:\n%s", tail(s.logText(), 4000))
	}
}

// backupThenRestore has a scheduler of node run a Swift backup job of a
// new tree and then a restore job of it, and checks both results, the one
// backup record the backup left (named name, in a container named after
// the node) and the restored tree. logs
// gives the scheduler's log for failure messages.
func (w *world) backupThenRestore(node, name string, logs func() string) {
	t := w.t
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	makeTree(t, src)
	container := w.prefix + "-" + node
	id := w.createJobCLI(node, []apiv2.Action{swiftBackup(src, container, name)}, apiv2.JobSchedule{})
	if js := w.wait(id, 120*time.Second, isCompleted); js.Result != apiv2.ResultSuccess {
		t.Fatalf("backup job: %+v\n%s", js, tail(logs(), 4000))
	}
	if bs := w.backupsOf(id); len(bs) != 1 || bs[0].BackupMetadata.String("backup_name") != name ||
		bs[0].BackupMetadata.String("container") != container {
		t.Fatalf("backup metadata uploaded: %+v", bs)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	restore := apiv2.Action{FreezerAction: apiv2.FreezerAction{"action": "restore", "storage": "swift",
		"container": container, "backup_name": name, "restore_abs_path": dst}}
	rid := w.createJobCLI(node, []apiv2.Action{restore}, apiv2.JobSchedule{})
	if js := w.wait(rid, 120*time.Second, isCompleted); js.Result != apiv2.ResultSuccess {
		t.Fatalf("restore job: %+v\n%s", js, tail(logs(), 4000))
	}
	if a, b := treeSum(t, src), treeSum(t, dst); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("restored tree differs:\nsource   %v\nrestored %v", a, b)
	}
	if show := w.freezerCLI("job-show", id); !strings.Contains(show, "completed") || !strings.Contains(show, "success") {
		t.Errorf("freezer job-show:\n%s", show)
	}
}
