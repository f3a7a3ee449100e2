//go:build integration

package main

// Resumable backups end to end: the agent SIGKILLed half-way through a
// backup to Swift or S3 resumes on the next run, uploading only what is
// missing (counted by an HTTP proxy between agent and storage), and the
// result restores identically; a source changed in between starts over;
// admin removes what an abandoned backup left once it is older than
// --abandoned-upload-grace.
//
// FREEZER_RESUME_TEST_MB sets the source size (default 512 MiB; 2048 is
// the 2 GB case).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/registry"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// countingProxy forwards to target and counts the request body bytes of
// uploads (PUT, POST) that went through it.
type countingProxy struct {
	url  string
	sent atomic.Int64
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &countingProxy{}
	rp := &httputil.ReverseProxy{
		// A killed agent's requests end in errors the test expects.
		ErrorLog: log.New(io.Discard, "", 0),
		// The Host header stays the proxy's: S3's signature covers it.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = u.Scheme, u.Host
			r.Out.Host = r.In.Host
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodPut || r.Method == http.MethodPost) && r.Body != nil {
			r.Body = countingBody{ReadCloser: r.Body, n: &c.sent}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

type resumeCase struct {
	env    []string
	args   []string
	values storage.Values // to inspect the storage directly
	proxy  *countingProxy
}

func resumeCases(t *testing.T, name string) map[string]func(t *testing.T) resumeCase {
	e := testenv.Load(t)
	return map[string]func(t *testing.T) resumeCase{
		"swift": func(t *testing.T) resumeCase {
			p := startCountingProxy(t, e.Get(t, "SWIFT_URL"))
			env := []string{
				"OS_AUTH_URL=" + e.Get(t, "OS_AUTH_URL"), "OS_USERNAME=" + e.Get(t, "DEMO_OS_USERNAME"),
				"OS_PASSWORD=" + e.Get(t, "DEMO_OS_PASSWORD"), "OS_PROJECT_NAME=" + e.Get(t, "DEMO_OS_PROJECT_NAME"),
				"OS_USER_DOMAIN_NAME=" + e.Get(t, "DEMO_OS_USER_DOMAIN_NAME"), "OS_PROJECT_DOMAIN_NAME=" + e.Get(t, "DEMO_OS_PROJECT_DOMAIN_NAME"),
				"OS_REGION_NAME=" + e.Get(t, "OS_REGION_NAME"),
				"OS_STORAGE_URL=" + p.url + "/v1/AUTH_" + e.Get(t, "DEMO_OS_PROJECT_ID"),
			}
			v := storage.Values{"storage": "swift", "container": name + "-swift"}
			for _, kv := range env {
				k, val, _ := strings.Cut(kv, "=")
				v[strings.ToLower(k)] = val
			}
			return resumeCase{env: env, proxy: p, values: v,
				args: []string{"--storage", "swift", "--container", name + "-swift", "--max-segment-size", "4194304"}}
		},
		"s3": func(t *testing.T) resumeCase {
			p := startCountingProxy(t, e.Get(t, "S3_ENDPOINT"))
			v := storage.Values{"storage": "s3", "container": name + "-s3", "endpoint": e.Get(t, "S3_ENDPOINT"),
				"access_key": e.Get(t, "DEMO_S3_ACCESS_KEY"), "secret_key": e.Get(t, "DEMO_S3_SECRET_KEY")}
			return resumeCase{proxy: p, values: v,
				args: []string{"--storage", "s3", "--container", name + "-s3", "--endpoint", p.url,
					"--access-key", e.Get(t, "DEMO_S3_ACCESS_KEY"), "--secret-key", e.Get(t, "DEMO_S3_SECRET_KEY"), "--max-segment-size", "5242880"}}
		},
	}
}

func resumeTestMB(t *testing.T) int {
	mb := 512
	if v := os.Getenv("FREEZER_RESUME_TEST_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 64 {
			t.Fatalf("FREEZER_RESUME_TEST_MB=%q: want a number of MiB, at least 64", v)
		}
		mb = n
	}
	return mb
}

// mkRandomTree writes mb MiB of incompressible data in 32 MiB files.
func mkRandomTree(t *testing.T, mb int) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	buf := make([]byte, 1<<20)
	for i := 0; i*32 < mb; i++ {
		f, err := os.Create(filepath.Join(src, "sub", fmt.Sprintf("f%03d", i)))
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < min(32, mb-i*32); j++ {
			r.Read(buf)
			if _, err := f.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	put(t, filepath.Join(src, "small"), "a small file\n", 0o644)
	return src
}

// resumeAgent runs the agent with HOME at home (where its resume journal
// lives).
func resumeAgent(c resumeCase, home string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, append(append(args, c.args...), "--nosync", "--log-file", filepath.Join(home, "log"))...)
	cmd.Env = append([]string{"HOME=" + home}, c.env...)
	return cmd
}

func runResumeAgent(t *testing.T, c resumeCase, home string, args ...string) string {
	t.Helper()
	cmd := resumeAgent(c, home, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		logText, _ := os.ReadFile(filepath.Join(home, "log"))
		t.Fatalf("freezer-agent %v: %v\n%s\n%s", args, err, errb.String(), logText)
	}
	return out.String()
}

// killAt starts a backup and SIGKILLs the agent once the proxy has seen
// frac of want bytes uploaded. It returns the bytes uploaded by then.
func killAt(t *testing.T, c resumeCase, home string, frac float64, want int64, args ...string) int64 {
	t.Helper()
	base := c.proxy.sent.Load()
	cmd := resumeAgent(c, home, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			t.Fatalf("the backup ended (%v) before %.0f %% was uploaded: %s", err, frac*100, errb.String())
		case <-time.After(5 * time.Millisecond):
		}
		if float64(c.proxy.sent.Load()-base) >= frac*float64(want) {
			cmd.Process.Kill() // SIGKILL
			<-done
			return c.proxy.sent.Load() - base
		}
	}
}

func resultOf(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("result %q: %v", out, err)
	}
	return m
}

func TestResumeAfterSIGKILL(t *testing.T) {
	mb := resumeTestMB(t)
	src := mkRandomTree(t, mb)
	want := digestTree(t, src)
	size := int64(mb) << 20
	name := fmt.Sprintf("resume-%d", time.Now().UnixNano())
	for sname, mk := range resumeCases(t, name) {
		t.Run(sname, func(t *testing.T) {
			c := mk(t)
			home := t.TempDir()
			backupArgs := []string{"--action", "backup", "--path-to-backup", src, "--backup-name", "rs", "--hostname", "h",
				"--compression", "none", "--metadata-out", "-"}
			first := killAt(t, c, home, 0.5, size, backupArgs...)
			if info := runResumeAgent(t, c, home, "--action", "info", "--backup-name", "rs", "--hostname", "h"); !strings.Contains(info, "No backups found") {
				t.Fatalf("an interrupted backup is listed: %s", info)
			}
			before := c.proxy.sent.Load()
			start := time.Now()
			m := resultOf(t, runResumeAgent(t, c, home, backupArgs...))
			second := c.proxy.sent.Load() - before
			stored := int64(m["data_size"].(float64))
			t.Logf("%s: %d MiB backup (%d bytes stored): killed after %d bytes uploaded; the resumed run uploaded %d (%.1f %%) in %s, kept %v",
				sname, mb, stored, first, second, 100*float64(second)/float64(stored), time.Since(start).Round(time.Second), m["bytes_resumed"])
			if m["resumed"] != true {
				t.Fatalf("the backup was not resumed: %v", m)
			}
			if float64(second) > 0.55*float64(stored) {
				t.Errorf("the resumed run uploaded %d bytes, more than 55 %% of %d", second, stored)
			}
			if info := runResumeAgent(t, c, home, "--action", "info", "--backup-name", "rs", "--hostname", "h"); strings.Count(info, "h_rs") != 1 {
				t.Fatalf("info after the resumed backup: %s", info)
			}
			if _, err := os.Stat(filepath.Join(home, ".freezer", "resume")); err == nil {
				if left, _ := os.ReadDir(filepath.Join(home, ".freezer", "resume")); len(left) != 0 {
					t.Errorf("the resume journal was left behind: %v", left)
				}
			}
			dst := filepath.Join(t.TempDir(), "dst")
			runResumeAgent(t, c, home, "--action", "restore", "--restore-abs-path", dst, "--backup-name", "rs", "--hostname", "h")
			if got := digestTree(t, dst); got != want {
				t.Fatalf("the restored tree differs from the source")
			}
			runResumeAgent(t, c, home, "--action", "admin", "--remove-older-than", "0", "--abandoned-upload-grace", "0", "--backup-name", "rs", "--hostname", "h")
		})
	}
}

// TestResumeChangedSourceStartsOver: a file changed after the interrupt
// makes the next run start a new backup, which restores the new content.
func TestResumeChangedSourceStartsOver(t *testing.T) {
	const mb = 96
	src := mkRandomTree(t, mb)
	size := int64(mb) << 20
	name := fmt.Sprintf("resume-chg-%d", time.Now().UnixNano())
	for sname, mk := range resumeCases(t, name) {
		t.Run(sname, func(t *testing.T) {
			c := mk(t)
			home := t.TempDir()
			backupArgs := []string{"--action", "backup", "--path-to-backup", src, "--backup-name", "chg", "--hostname", "h",
				"--compression", "zstd", "--metadata-out", "-"}
			killAt(t, c, home, 0.5, size, backupArgs...)
			f, err := os.OpenFile(filepath.Join(src, "small"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(f, "changed for %s\n", sname)
			f.Close()
			before := c.proxy.sent.Load()
			m := resultOf(t, runResumeAgent(t, c, home, backupArgs...))
			second := c.proxy.sent.Load() - before
			stored := int64(m["data_size"].(float64))
			if m["resumed"] != false || m["bytes_resumed"].(float64) != 0 {
				t.Fatalf("a changed source was resumed: %v", m)
			}
			if second < stored {
				t.Errorf("the new backup uploaded %d bytes, less than its %d", second, stored)
			}
			info := runResumeAgent(t, c, home, "--action", "info", "--backup-name", "chg", "--hostname", "h")
			if strings.Count(info, "h_chg") != 1 {
				t.Fatalf("info: %s", info)
			}
			dst := filepath.Join(t.TempDir(), "dst")
			runResumeAgent(t, c, home, "--action", "restore", "--restore-abs-path", dst, "--backup-name", "chg", "--hostname", "h")
			if digestTree(t, dst) != digestTree(t, src) {
				t.Fatal("the restored tree differs from the changed source")
			}
			runResumeAgent(t, c, home, "--action", "admin", "--remove-older-than", "0", "--abandoned-upload-grace", "0", "--backup-name", "chg", "--hostname", "h")
		})
	}
}

// TestResumeEncrypted: an authenticated (fzae1), compressed backup
// resumes too: the cipher replays its recorded salt and nonces, so the
// stream is the same and the stored part is kept.
func TestResumeEncrypted(t *testing.T) {
	const mb = 128
	src := mkRandomTree(t, mb)
	size := int64(mb) << 20
	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("resume secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("resume-enc-%d", time.Now().UnixNano())
	for sname, mk := range resumeCases(t, name) {
		t.Run(sname, func(t *testing.T) {
			c := mk(t)
			home := t.TempDir()
			backupArgs := []string{"--action", "backup", "--path-to-backup", src, "--backup-name", "enc", "--hostname", "h",
				"--compression", "zstd", "--encrypt-pass-file", pass, "--encryption-format", "fzae1", "--metadata-out", "-"}
			killAt(t, c, home, 0.5, size, backupArgs...)
			before := c.proxy.sent.Load()
			m := resultOf(t, runResumeAgent(t, c, home, backupArgs...))
			second := c.proxy.sent.Load() - before
			stored := int64(m["data_size"].(float64))
			t.Logf("%s: encrypted %d MiB: the resumed run uploaded %d of %d bytes (%.1f %%)", sname, mb, second, stored, 100*float64(second)/float64(stored))
			if m["resumed"] != true || float64(second) > 0.6*float64(stored) {
				t.Fatalf("resumed %v, uploaded %d of %d: %v", m["resumed"], second, stored, m)
			}
			dst := filepath.Join(t.TempDir(), "dst")
			runResumeAgent(t, c, home, "--action", "restore", "--restore-abs-path", dst, "--backup-name", "enc", "--hostname", "h",
				"--encrypt-pass-file", pass)
			if digestTree(t, dst) != digestTree(t, src) {
				t.Fatal("the restored tree differs from the source")
			}
			runResumeAgent(t, c, home, "--action", "admin", "--remove-older-than", "0", "--abandoned-upload-grace", "0", "--backup-name", "enc", "--hostname", "h")
		})
	}
}

// TestResumeDivergedStartsOver: when the stream produced again differs
// from what the interrupted run stored (here: the journal's cipher salt
// and nonces replaced, so the same source encrypts to other bytes), the
// stored segments are not mixed with the new ones: the backup starts over,
// leaves no incomplete upload, and restores.
func TestResumeDivergedStartsOver(t *testing.T) {
	const mb = 64
	src := mkRandomTree(t, mb)
	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("diverged\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("resume-div-%d", time.Now().UnixNano())
	for sname, mk := range resumeCases(t, name) {
		t.Run(sname, func(t *testing.T) {
			c := mk(t)
			home := t.TempDir()
			backupArgs := []string{"--action", "backup", "--path-to-backup", src, "--backup-name", "div", "--hostname", "h",
				"--compression", "none", "--encrypt-pass-file", pass, "--metadata-out", "-"}
			killAt(t, c, home, 0.5, int64(mb)<<20, backupArgs...)
			journals, _ := filepath.Glob(filepath.Join(home, ".freezer", "resume", "*.json"))
			if len(journals) != 1 {
				t.Fatalf("journals %v", journals)
			}
			b, err := os.ReadFile(journals[0])
			if err != nil {
				t.Fatal(err)
			}
			var j map[string]any
			if err := json.Unmarshal(b, &j); err != nil {
				t.Fatal(err)
			}
			other := make([]byte, 1024)
			for i := range other {
				other[i] = byte(i)
			}
			j["rand"] = other
			b, _ = json.Marshal(j)
			if err := os.WriteFile(journals[0], b, 0o600); err != nil {
				t.Fatal(err)
			}
			m := resultOf(t, runResumeAgent(t, c, home, backupArgs...))
			if m["resumed"] != false {
				t.Fatalf("a diverging stream was resumed: %v", m)
			}
			if info := runResumeAgent(t, c, home, "--action", "info", "--backup-name", "div", "--hostname", "h"); strings.Count(info, "h_div") != 1 {
				t.Fatalf("info: %s", info)
			}
			ctx := context.Background()
			st, err := registry.New(ctx, c.values, registry.Env{Getenv: func(string) string { return "" }, Home: home})
			if err != nil {
				t.Fatal(err)
			}
			defer storage.Close(st)
			if n, err := backup.IncompleteUploadsUnder(ctx, st, "data/tar/h_div"); err != nil || n != 0 {
				t.Fatalf("%d incomplete uploads left (%v)", n, err)
			}
			dst := filepath.Join(t.TempDir(), "dst")
			runResumeAgent(t, c, home, "--action", "restore", "--restore-abs-path", dst, "--backup-name", "div", "--hostname", "h",
				"--encrypt-pass-file", pass)
			if digestTree(t, dst) != digestTree(t, src) {
				t.Fatal("the restored tree differs from the source")
			}
			runResumeAgent(t, c, home, "--action", "admin", "--remove-older-than", "0", "--abandoned-upload-grace", "0", "--backup-name", "div", "--hostname", "h")
			if n, err := abandoned(ctx, st, "data/tar/h_div"); err != nil || n != 0 {
				t.Fatalf("%d objects or uploads left after admin (%v)", n, err)
			}
		})
	}
}

// TestAdminRemovesAbandonedUploads: what a killed backup left (Swift's
// segments, S3's incomplete multipart upload) stays while younger than
// --abandoned-upload-grace and goes after.
func TestAdminRemovesAbandonedUploads(t *testing.T) {
	const mb = 64
	src := mkRandomTree(t, mb)
	name := fmt.Sprintf("resume-adm-%d", time.Now().UnixNano())
	for sname, mk := range resumeCases(t, name) {
		t.Run(sname, func(t *testing.T) {
			c := mk(t)
			home := t.TempDir()
			killAt(t, c, home, 0.5, int64(mb)<<20, "--action", "backup", "--path-to-backup", src, "--backup-name", "adm", "--hostname", "h", "--compression", "none")
			ctx := context.Background()
			st, err := registry.New(ctx, c.values, registry.Env{Getenv: func(string) string { return "" }, Home: home})
			if err != nil {
				t.Fatal(err)
			}
			defer storage.Close(st)
			left := func() int {
				t.Helper()
				n, err := abandoned(ctx, st, "data/tar/h_adm")
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if left() == 0 {
				t.Fatal("the killed backup left nothing to clean up")
			}
			admin := []string{"--action", "admin", "--remove-older-than", "0", "--backup-name", "adm", "--hostname", "h"}
			runResumeAgent(t, c, home, append(admin, "--abandoned-upload-grace", "1")...)
			if left() == 0 {
				t.Fatal("admin removed an upload younger than the grace period")
			}
			time.Sleep(1100 * time.Millisecond)
			runResumeAgent(t, c, home, append(admin, "--abandoned-upload-grace", "0")...)
			if n := left(); n != 0 {
				t.Fatalf("admin left %d abandoned uploads or objects", n)
			}
		})
	}
}

// abandoned counts the objects below dir and the incomplete uploads there.
func abandoned(ctx context.Context, st backup.Storage, dir string) (int, error) {
	n, err := countObjects(ctx, st, dir)
	if err != nil {
		return 0, err
	}
	k, err := backup.IncompleteUploadsUnder(ctx, st, dir)
	return n + k, err
}

func countObjects(ctx context.Context, st backup.Storage, dir string) (int, error) {
	names, err := st.List(ctx, dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range names {
		k, err := countObjects(ctx, st, dir+"/"+s)
		if err != nil {
			return 0, err
		}
		n += max(k, 1) // an object lists nothing below it
	}
	return n, nil
}
