//go:build integration

package main

// A server that stops answering in the middle of a backup (its process
// stopped with SIGSTOP) must not hang the agent: the storages' idle timeout
// fails the run, naming the server, nothing is listed afterwards, and the
// next run succeeds once the server is continued. The shared services of
// the test environment serve other tests, so each case starts its own
// instance (a second Swift proxy on the same rings, an sshd, a vsftpd) on
// free ports and stops only that.

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/testenv"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer copies conf with the replacements applied (regexps of whole
// lines) and runs argv with the copy's path in place of "CONF", until the
// test ends. It returns the server's pid once port accepts connections.
func startServer(t *testing.T, conf string, repl map[string]string, port int, argv ...string) int {
	t.Helper()
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Skipf("no %s: %v", conf, err)
	}
	s := string(b)
	for re, with := range repl {
		s = regexp.MustCompile("(?m)"+re).ReplaceAllString(s, with)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(conf))
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range argv {
		argv[i] = strings.ReplaceAll(argv[i], "CONF", p)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Skipf("%s: %v", argv[0], err)
	}
	t.Cleanup(func() {
		signalTree(cmd.Process.Pid, syscall.SIGCONT)
		signalTree(cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	for deadline := time.Now().Add(90 * time.Second); ; { // a Swift proxy takes 20 s to start on a loaded machine
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			c.Close()
			return cmd.Process.Pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %d: %s", argv[0], port, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signalTree signals pid and all its descendants (sshd and vsftpd serve
// each connection in a child, some in a new session, so a process group
// does not reach them).
func signalTree(pid int, sig syscall.Signal) {
	pids := []int{pid}
	for i := 0; i < len(pids); i++ {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			child, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
			if len(f) > 1 && f[1] == strconv.Itoa(pids[i]) {
				pids = append(pids, child)
			}
		}
	}
	for _, p := range pids {
		syscall.Kill(p, sig)
	}
}

// readBytes is what pid has read (rchar of /proc/pid/io), 0 when unknown.
func readBytes(pid int) int64 {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func TestStalledServerFailsTheRun(t *testing.T) {
	e := testenv.Load(t)
	name := fmt.Sprintf("stall-%d", time.Now().UnixNano())
	root := testenv.Root()
	type server struct {
		args []string
		env  []string
		pid  int
	}
	cases := map[string]func(t *testing.T) server{
		"swift": func(t *testing.T) server {
			port := freePort(t)
			pid := startServer(t, filepath.Join(root, "swift/etc/proxy-server.conf"), map[string]string{`^bind_port = .*$`: "bind_port = " + strconv.Itoa(port)},
				port, "/usr/bin/swift-proxy-server", "CONF")
			env := []string{
				"OS_AUTH_URL=" + e.Get(t, "OS_AUTH_URL"), "OS_USERNAME=" + e.Get(t, "DEMO_OS_USERNAME"),
				"OS_PASSWORD=" + e.Get(t, "DEMO_OS_PASSWORD"), "OS_PROJECT_NAME=" + e.Get(t, "DEMO_OS_PROJECT_NAME"),
				"OS_USER_DOMAIN_NAME=" + e.Get(t, "DEMO_OS_USER_DOMAIN_NAME"), "OS_PROJECT_DOMAIN_NAME=" + e.Get(t, "DEMO_OS_PROJECT_DOMAIN_NAME"),
				"OS_REGION_NAME=" + e.Get(t, "OS_REGION_NAME"),
				fmt.Sprintf("OS_STORAGE_URL=http://127.0.0.1:%d/v1/AUTH_%s", port, e.Get(t, "DEMO_OS_PROJECT_ID")),
			}
			return server{env: env, pid: pid, args: []string{"--storage", "swift", "--container", name + "-swift", "--max-segment-size", "4194304"}}
		},
		"s3": func(t *testing.T) server {
			port := freePort(t)
			pid := startServer(t, filepath.Join(root, "swift/etc/proxy-server.conf"), map[string]string{`^bind_port = .*$`: "bind_port = " + strconv.Itoa(port)},
				port, "/usr/bin/swift-proxy-server", "CONF")
			return server{pid: pid, args: []string{"--storage", "s3", "--container", name + "-s3", "--endpoint", fmt.Sprintf("http://127.0.0.1:%d", port),
				"--access-key", e.Get(t, "DEMO_S3_ACCESS_KEY"), "--secret-key", e.Get(t, "DEMO_S3_SECRET_KEY"), "--max-segment-size", "5242880"}}
		},
		"ssh": func(t *testing.T) server {
			port := freePort(t)
			pid := startServer(t, filepath.Join(root, "sshd/sshd_config"), map[string]string{
				`^Port .*$`: "Port " + strconv.Itoa(port), `^PidFile .*$`: "PidFile " + filepath.Join(t.TempDir(), "sshd.pid")},
				port, "/usr/sbin/sshd", "-D", "-e", "-f", "CONF")
			return server{pid: pid, args: []string{"--storage", "ssh", "--container", e.Get(t, "SSH_CONTAINER") + "/" + name, "--ssh-host", e.Get(t, "SSH_HOST"),
				"--ssh-port", strconv.Itoa(port), "--ssh-username", e.Get(t, "SSH_USER"), "--ssh-key", e.Get(t, "SSH_KEY"),
				"--ssh-insecure-ignore-host-key"}}
		},
		"ftp": func(t *testing.T) server {
			port := freePort(t)
			logs := t.TempDir()
			pid := startServer(t, filepath.Join(root, "ftp/vsftpd-ftp.conf"), map[string]string{
				`^listen_port=.*$`: "listen_port=" + strconv.Itoa(port), `^pasv_min_port=.*$`: "pasv_min_port=30060", `^pasv_max_port=.*$`: "pasv_max_port=30069",
				`^vsftpd_log_file=.*$`: "vsftpd_log_file=" + logs + "/xfer.log", `^xferlog_file=.*$`: "xferlog_file=" + logs + "/xferlog.log"},
				port, "/usr/sbin/vsftpd", "CONF")
			return server{pid: pid, args: []string{"--storage", "ftp", "--container", e.Get(t, "FTP_CONTAINER") + "/" + name, "--ftp-host", e.Get(t, "FTP_HOST"),
				"--ftp-port", strconv.Itoa(port), "--ftp-username", e.Get(t, "FTP_USER"), "--ftp-password", e.Get(t, "FTP_PASS")}}
		},
		"ftps": func(t *testing.T) server {
			port := freePort(t)
			logs := t.TempDir()
			pid := startServer(t, filepath.Join(root, "ftp/vsftpd-ftps.conf"), map[string]string{
				`^listen_port=.*$`: "listen_port=" + strconv.Itoa(port), `^pasv_min_port=.*$`: "pasv_min_port=30070", `^pasv_max_port=.*$`: "pasv_max_port=30079",
				`^vsftpd_log_file=.*$`: "vsftpd_log_file=" + logs + "/xfer.log", `^xferlog_file=.*$`: "xferlog_file=" + logs + "/xferlog.log"},
				port, "/usr/sbin/vsftpd", "CONF")
			return server{pid: pid, args: []string{"--storage", "ftps", "--container", e.Get(t, "FTP_CONTAINER") + "/" + name + "-tls", "--ftp-host", e.Get(t, "FTP_HOST"),
				"--ftp-port", strconv.Itoa(port), "--ftp-username", e.Get(t, "FTP_USER"), "--ftp-password", e.Get(t, "FTP_PASS"),
				"--ftp-cacert", e.Get(t, "FTPS_CACERT")}}
		},
	}
	const idle, bound = 10, 90 // seconds; Keystone takes seconds to issue a token on a loaded machine
	for _, sname := range []string{"swift", "s3", "ssh", "ftp", "ftps"} {
		t.Run(sname, func(t *testing.T) {
			srv := cases[sname](t)
			src := filepath.Join(t.TempDir(), "src")
			os.MkdirAll(src, 0o755)
			f, _ := os.Create(filepath.Join(src, "big"))
			io.CopyN(f, rand.Reader, 48<<20)
			f.Close()
			common := append([]string{"--backup-name", "stall", "--hostname", "h", "--compression", "none", "--idle-timeout", strconv.Itoa(idle),
				"--nosync", "--log-file", filepath.Join(t.TempDir(), "log")}, srv.args...)
			cmd := exec.Command(binary, append([]string{"--action", "backup", "--path-to-backup", src, "--upload-limit", "4M",
				"--timeout", strconv.Itoa(bound)}, common...)...)
			cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}, srv.env...)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Stop the server once the upload is under way (it takes 12 s at
			// 4 MiB/s): the agent has read 8 MiB of the source.
			for deadline := time.Now().Add(2 * time.Minute); readBytes(cmd.Process.Pid) < 8<<20; {
				if time.Now().After(deadline) {
					t.Fatalf("the upload did not start: %s", errb.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(time.Second)
			signalTree(srv.pid, syscall.SIGSTOP)
			stopped := time.Now()
			err := cmd.Wait()
			took := time.Since(stopped)
			signalTree(srv.pid, syscall.SIGCONT)
			t.Logf("%s: the agent failed %s after the server was stopped: %s", sname, took.Round(100*time.Millisecond), strings.TrimSpace(errb.String()))
			if err == nil {
				t.Fatalf("the backup succeeded against a stopped server")
			}
			if took > bound*time.Second {
				t.Errorf("the agent took %s, more than --timeout %d s", took, bound)
			}
			if !strings.Contains(errb.String(), "127.0.0.1") {
				t.Errorf("the error does not name the server: %s", errb.String())
			}
			// The idle timeout caught the stall, not --timeout (the ssh
			// storage reports its dropped connection as lost).
			if msg := errb.String(); strings.Contains(msg, "--timeout") || !(strings.Contains(msg, "stalled") || strings.Contains(msg, "connection lost")) {
				t.Errorf("the stall was not caught by the idle timeout: %s", msg)
			}
			// Nothing is listed.
			info := exec.Command(binary, append([]string{"--action", "info", "--metadata-out", "-"}, common...)...)
			info.Env = cmd.Env
			out, err := info.Output()
			if err != nil {
				t.Fatalf("info after the stall: %v", err)
			}
			if s := strings.TrimSpace(string(out)); s != "" && s != "[]" && s != "null" {
				t.Errorf("after the failed backup info lists %s", s)
			}
			// The next run succeeds (a small one: the server is back).
			os.Truncate(filepath.Join(src, "big"), 1<<20)
			next := exec.Command(binary, append([]string{"--action", "backup", "--path-to-backup", src, "--metadata-out", "-"}, common...)...)
			next.Env = cmd.Env
			var nerr bytes.Buffer
			next.Stderr = &nerr
			if out, err := next.Output(); err != nil || !strings.Contains(string(out), `"curr_backup_level"`) {
				t.Fatalf("the next backup: %v %s %s", err, out, nerr.String())
			}
		})
	}
}
