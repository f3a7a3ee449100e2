//go:build integration

package registry

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/s3"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// endless yields pseudo-random bytes forever and says once on stdout when
// `after` bytes were taken, so the parent knows the upload is under way.
type endless struct {
	r     io.Reader
	read  int64
	after int64
}

func (e *endless) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	before := e.read
	e.read += int64(n)
	if before < e.after && e.read >= e.after {
		fmt.Println("UPLOADING")
	}
	return n, err
}

// TestKillMidPutHelper is the child process of TestKilledPutLeavesNothing:
// it uploads an endless stream until it is killed.
func TestKillMidPutHelper(t *testing.T) {
	raw := os.Getenv("FREEZER_KILL_VALUES")
	if raw == "" {
		return
	}
	var v storage.Values
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	st, err := New(context.Background(), v, demoEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Put(context.Background(), os.Getenv("FREEZER_KILL_KEY"), &endless{r: storagetest.Generator(1, 1<<62), after: 5 << 20})
	t.Fatalf("Put of an endless stream returned: %v", err)
}

// TestKilledPutLeavesNothing SIGKILLs a process in the middle of a Put to
// each real storage: afterwards the key does not exist and its directory
// lists nothing, and a new Put to the same key works.
func TestKilledPutLeavesNothing(t *testing.T) {
	env := testenv.Load(t)
	run := "kill-" + uniq()
	cases := map[string]storage.Values{
		"local": {"storage": "local", "container": filepath.Join(t.TempDir(), run)},
		"swift": {"storage": "swift", "container": "freezer-go-storagetest/" + run, "max_segment_size": "1M"},
		"s3": {"storage": "s3", "container": "freezer-go-storagetest/" + run, "max_segment_size": "5M",
			"endpoint": env.Get(t, "S3_ENDPOINT"), "access_key": env.Get(t, "DEMO_S3_ACCESS_KEY"), "secret_key": env.Get(t, "DEMO_S3_SECRET_KEY")},
		"ssh": {"storage": "ssh", "container": env.Get(t, "SSH_CONTAINER") + "/" + run,
			"ssh_host": env.Get(t, "SSH_HOST"), "ssh_port": env.Get(t, "SSH_PORT"), "ssh_username": env.Get(t, "SSH_USER"),
			"ssh_key": env.Get(t, "SSH_KEY"), "ssh_known_hosts": env.Get(t, "SSH_KNOWN_HOSTS")},
		"ftp": {"storage": "ftp", "container": env.Get(t, "FTP_CONTAINER") + "/" + run,
			"ftp_host": env.Get(t, "FTP_HOST"), "ftp_port": env.Get(t, "FTP_PORT"),
			"ftp_username": env.Get(t, "FTP_USER"), "ftp_password": env.Get(t, "FTP_PASS")},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := New(ctx, v, demoEnv(t))
			if err != nil {
				t.Fatal(err)
			}
			defer storage.Close(st)
			defer st.Delete(ctx, "data")
			for _, key := range []string{"data/tar/h_k/1/0_1/data", "data/tar/h_k/1/0_1/engine_metadata"} {
				killMidPut(t, v, key)
				if _, err := st.Get(ctx, key); !errors.Is(err, backup.ErrNotFound) {
					t.Fatalf("Get(%s) after the writer was killed: %v, want ErrNotFound", key, err)
				}
				names, err := st.List(ctx, "data/tar/h_k/1/0_1")
				if err != nil {
					t.Fatal(err)
				}
				// Swift keeps the orphan segments, which nothing reads.
				names = slices.DeleteFunc(names, func(n string) bool { return name == "swift" && n == "segments" })
				if len(names) != 0 {
					t.Fatalf("listing after the kill shows %q", names)
				}
			}
			if s3st, ok := st.(*s3.Storage); ok {
				// The killed writers' multipart uploads are invisible but
				// hold their parts until aborted.
				n, err := s3st.AbortStale(ctx, time.Now().Add(time.Minute))
				if err != nil || n != 2 {
					t.Fatalf("AbortStale after two killed uploads: %d, %v", n, err)
				}
			}
			if err := st.Put(ctx, "data/tar/h_k/1/0_1/data", strings.NewReader("next run")); err != nil {
				t.Fatalf("Put after the killed run: %v", err)
			}
			rc, err := st.Get(ctx, "data/tar/h_k/1/0_1/data")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if string(b) != "next run" {
				t.Fatalf("read %q", b)
			}
		})
	}
}

func killMidPut(t *testing.T, v storage.Values, key string) {
	t.Helper()
	raw, _ := json.Marshal(v)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillMidPutHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "FREEZER_KILL_VALUES="+string(raw), "FREEZER_KILL_KEY="+key)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan bool, 1)
	var tail []string
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			tail = append(tail, sc.Text())
			if sc.Text() == "UPLOADING" {
				started <- true
			}
		}
		close(started)
	}()
	select {
	case ok := <-started:
		if !ok {
			cmd.Wait()
			t.Fatalf("helper ended before uploading:\n%s", strings.Join(tail, "\n"))
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("helper never started uploading")
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}
