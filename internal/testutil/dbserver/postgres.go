package dbserver

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// PGBin is where Debian installs the PostgreSQL server programs.
const PGBin = "/usr/lib/postgresql/15/bin"

// Postgres is a running PostgreSQL server, run as the postgres user.
type Postgres struct {
	DataDir, SocketDir string
	Port               int
	cmd                *exec.Cmd
	log                string
}

// PostgresUser returns the uid and gid of the postgres user; the test
// skips unless it runs as root and the user exists.
func PostgresUser(t testing.TB) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("runs the PostgreSQL server as the postgres user, which needs root")
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("no postgres user (tools/testenv/install.sh installs postgresql): %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// PublicDir returns a new directory the postgres user can reach (t.TempDir
// is private to root), removed when the test ends.
func PublicDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "freezer-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o755)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func asPostgres(t testing.TB, cmd *exec.Cmd) {
	uid, gid := PostgresUser(t)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

// Chown gives dir and everything below to the postgres user.
func Chown(t testing.TB, dir string) {
	t.Helper()
	uid, gid := PostgresUser(t)
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			os.Lchown(p, uid, gid)
		}
		return nil
	})
}

// InitPostgres makes a new cluster in dir (which must not exist), with
// trust authentication on loopback for the user postgres.
func InitPostgres(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	Chown(t, dir)
	cmd := exec.Command(filepath.Join(PGBin, "initdb"), "-D", dir, "-U", "postgres", "--auth=trust", "--no-sync")
	asPostgres(t, cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
}

// StartPostgres starts the server on dir, on a free loopback port, and
// waits until it accepts connections; it is stopped when the test ends.
func StartPostgres(t testing.TB, dir string) *Postgres {
	t.Helper()
	sock := PublicDir(t)
	Chown(t, sock)
	p := &Postgres{DataDir: dir, SocketDir: sock, Port: FreePort(t), log: filepath.Join(sock, "log")}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(filepath.Join(PGBin, "postgres"), "-D", dir, "-p", strconv.Itoa(p.Port), "-k", sock,
		"-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=16MB", "-c", "max_wal_senders=4", "-c", "wal_level=replica")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	asPostgres(t, p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command(filepath.Join(PGBin, "pg_isready"), "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port)).CombinedOutput()
		if err == nil {
			return p
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(p.log)
			t.Fatalf("postgres did not start: %s\n%s", out, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Log returns the server's log.
func (p *Postgres) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Psql runs one psql command (-c) as postgres and returns its unaligned,
// tuples-only output.
func (p *Postgres) Psql(t testing.TB, sql string) string {
	t.Helper()
	out, err := exec.Command("psql", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres",
		"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", sql, err, out)
	}
	return string(out)
}

// Args are the psql connection arguments.
func (p *Postgres) Args() []string {
	return []string{"-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres", "-X", "-q"}
}

// String names the server.
func (p *Postgres) String() string { return fmt.Sprintf("postgres on 127.0.0.1:%d", p.Port) }
