// Package dbserver starts throw-away database servers for tests: a
// MariaDB (mariadbd) or a PostgreSQL, on a free loopback port with its data
// directory where the test says (a btrfs loop mount, for snapshot tests),
// stopped when the test ends. The machine's own servers are never touched.
package dbserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port nobody listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// MariaDB is a running mariadbd.
type MariaDB struct {
	DataDir, Socket string
	Port            int
	cmd             *exec.Cmd
	log             string
}

// DSN is a go-sql-driver DSN for root over TCP.
func (m *MariaDB) DSN(db string) string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s", m.Port, db)
}

func lookTool(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Fatalf("%s not found (tools/testenv/install.sh installs it): %v", n, err)
		}
	}
}

// InitMariaDB makes a new data directory (mariadb-install-db) in dir.
func InitMariaDB(t testing.TB, dir string) {
	t.Helper()
	lookTool(t, "mariadb-install-db", "mariadbd")
	out, err := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+dir, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput()
	if err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
}

// StartMariaDB starts mariadbd on an existing data directory and waits
// until it accepts connections; it is stopped when the test ends.
func StartMariaDB(t testing.TB, dir string) *MariaDB {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("starts mariadbd as root (--user=root)")
	}
	lookTool(t, "mariadbd")
	run := t.TempDir()
	m := &MariaDB{DataDir: dir, Socket: filepath.Join(run, "sock"), Port: FreePort(t), log: filepath.Join(run, "err.log")}
	m.cmd = exec.Command("mariadbd", "--no-defaults", "--datadir="+dir, "--user=root",
		"--socket="+m.Socket, "--port="+strconv.Itoa(m.Port), "--bind-address=127.0.0.1",
		"--pid-file="+filepath.Join(run, "pid"), "--log-error="+m.log,
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--skip-log-bin",
		"--performance-schema=OFF", "--max-connections=50")
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", m.Port), time.Second)
		if err == nil {
			c.Close()
			return m
		}
		if m.cmd.ProcessState != nil || time.Now().After(deadline) {
			b, _ := os.ReadFile(m.log)
			t.Fatalf("mariadbd did not start: %s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Log returns the server's error log.
func (m *MariaDB) Log() string {
	b, _ := os.ReadFile(m.log)
	return string(b)
}

func (m *MariaDB) stop() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		m.cmd.Process.Kill()
		<-done
	}
}
