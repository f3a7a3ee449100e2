package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/dbserver"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "my.conf")
	os.WriteFile(p, []byte("[default]\nhost = db.example\nuser = backup\npassword = s3cret\n"), 0o600)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c != (Config{Host: "db.example", Port: 3306, User: "backup", Password: "s3cret"}) {
		t.Errorf("got %+v", c)
	}
	if dsn := c.DSN(); dsn != "backup:s3cret@tcp(db.example:3306)/?timeout=30s" {
		t.Errorf("DSN %q", dsn)
	}
	os.WriteFile(p, []byte("[default]\nsocket = /run/mysqld/mysqld.sock\nuser = root\n"), 0o600)
	if c, _ := LoadConfig(p); c.DSN() != "root@unix(/run/mysqld/mysqld.sock)/?timeout=30s" {
		t.Errorf("socket DSN %q", c.DSN())
	}
	for _, bad := range []string{"[client]\nhost = x\n", "[default]\nport = many\n"} {
		os.WriteFile(p, []byte(bad), 0o600)
		if _, err := LoadConfig(p); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLockTimer(t *testing.T) {
	now := time.Unix(0, 0)
	lt := &lockTimer{now: func() time.Time { return now }}
	for _, l := range []struct {
		after time.Duration
		line  string
	}{
		{0, "[00] 2026-12-07 21:50:01 Acquiring BACKUP LOCKS...(BACKUP STAGE START)"},
		{time.Second, "[00] 2026-12-07 21:50:02 Acquiring BACKUP LOCKS...(BACKUP STAGE BLOCK_DDL)"},
		{2 * time.Second, "[00] 2026-12-07 21:50:04 Acquiring BACKUP LOCKS...(BACKUP STAGE BLOCK_COMMIT)"},
		{500 * time.Millisecond, "[00] 2026-12-07 21:50:04 Executing BACKUP STAGE END"},
	} {
		now = now.Add(l.after)
		lt.line(l.line)
	}
	s := lt.stats()
	if s["lock_seconds"] != 0.5 || s["ddl_lock_seconds"] != 2.5 {
		t.Errorf("stats %v", s)
	}
}

// A --no-lock run still logs "Starting BACKUP STAGE ..." lines (seen
// with mariadb-backup 10.11) though it issues no statement: the timer
// reports no lock then.
func TestLockTimerNoLock(t *testing.T) {
	lt := &lockTimer{now: time.Now}
	lt.setLocks(false)
	lt.line("[00] 2026-12-08 01:29:18 Starting BACKUP STAGE BLOCK_COMMIT")
	time.Sleep(10 * time.Millisecond)
	lt.line("[00] 2026-12-08 01:29:18 Starting BACKUP STAGE END")
	s := lt.stats()
	if s["lock_seconds"] != 0.0 || s["ddl_lock_seconds"] != 0.0 || s["backup_locks"] != false {
		t.Errorf("stats %v", s)
	}
}

// Passwords a MariaDB option file would mangle unquoted.
var awkward = []string{
	``, `plain`, ` lead and trail `, `with "double" and 'single' quotes`,
	`back\slash\`, `\n not a newline`, `# a comment?`, `x #y`, `semi;colon = eq`,
	"tab\there", `"`, `'`, `\`, `\"`, `ünï`,
}

// What MariaDB's own option-file reader (my_print_defaults) reads back
// from the generated file is exactly the configured values.
func TestClientCnfRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("my_print_defaults"); err != nil {
		t.Fatalf("my_print_defaults (mariadb-client) not installed: %v", err)
	}
	for _, pw := range awkward {
		c := Config{User: "u " + pw, Password: pw, Host: "127.0.0.1", Port: 3307}
		p := filepath.Join(t.TempDir(), "client.cnf")
		os.WriteFile(p, []byte(clientCnf(c)), 0o600)
		out, err := exec.Command("my_print_defaults", "--defaults-file="+p, "client").CombinedOutput()
		if err != nil {
			t.Fatalf("my_print_defaults: %v\n%s", err, out)
		}
		got := map[string]string{}
		for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			k, v, _ := strings.Cut(strings.TrimPrefix(l, "--"), "=")
			got[k] = v
		}
		if got["password"] != pw || got["user"] != c.User || got["port"] != "3307" {
			t.Errorf("password %q: read back %q (file %q)", pw, got, clientCnf(c))
		}
	}
}

// A mariadb-backup hot backup logs in as a user whose password has every
// awkward character: the generated option file carries it intact.
func TestHotBackupAwkwardPassword(t *testing.T) {
	data := t.TempDir()
	dbserver.InitMariaDB(t, data)
	srv := dbserver.StartMariaDB(t, data)
	db, err := sql.Open("mysql", srv.DSN("")+"?interpolateParams=true")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pw := ` a "q" 'x' \b\ #h ;s = e `
	for _, q := range []string{"CREATE USER 'bk'@'127.0.0.1' IDENTIFIED BY ?", "GRANT ALL ON *.* TO 'bk'@'127.0.0.1'"} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, pw)
		}
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run := func(password string) ([]byte, error) {
		opts := HotBackup(Config{Host: "127.0.0.1", Port: srv.Port, User: "bk", Password: password}, Hot{Locks: LocksAlways, TempDir: t.TempDir()})
		cmd, err := opts.Backup(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		defer cmd.Done()
		c := exec.Command(cmd.Path, cmd.Args...)
		var errb bytes.Buffer
		c.Stdout, c.Stderr = io.Discard, &errb
		err = c.Run()
		return errb.Bytes(), err
	}
	if out, err := run(pw); err != nil {
		t.Fatalf("mariadb-backup with the awkward password: %v\n%s", err, out)
	}
	// The same with the password's blanks trimmed is refused: the test
	// would not notice a reader that drops them otherwise.
	if out, err := run(strings.TrimSpace(pw)); err == nil || !bytes.Contains(out, []byte("Access denied")) {
		t.Errorf("mariadb-backup with a wrong password: %v\n%s", err, out)
	}
}

// The auto setting drops the locks exactly when every table outside the
// system schemas is InnoDB (views do not count), and what mariadb-backup
// then sends the server (the general log) has no BACKUP STAGE, BACKUP
// LOCK or FLUSH TABLES statement; with the locks it has BLOCK_COMMIT.
func TestHotBackupAutoLocks(t *testing.T) {
	data := t.TempDir()
	dbserver.InitMariaDB(t, data)
	srv := dbserver.StartMariaDB(t, data)
	db, err := sql.Open("mysql", srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec1 := func(qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	genLog := filepath.Join(t.TempDir(), "general.log")
	exec1("CREATE DATABASE t", "CREATE TABLE t.inno (id INT PRIMARY KEY) ENGINE=InnoDB",
		"CREATE VIEW t.v AS SELECT id FROM t.inno",
		"SET GLOBAL log_output = 'FILE'", "SET GLOBAL general_log_file = '"+genLog+"'", "SET GLOBAL general_log = 1")
	cfg := Config{Host: "127.0.0.1", Port: srv.Port, User: "root"}
	// run takes a backup and returns its --no-lock, its stats and the
	// statements it sent.
	run := func(locks BackupLocks) (bool, map[string]any, string) {
		t.Helper()
		os.Truncate(genLog, 0)
		opts := HotBackup(cfg, Hot{Locks: locks, TempDir: t.TempDir()})
		cmd, err := opts.Backup(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		defer cmd.Done()
		c := exec.Command(cmd.Path, cmd.Args...)
		var errb bytes.Buffer
		c.Stdout = io.Discard
		c.Stderr = &errb
		if err := c.Run(); err != nil {
			t.Fatalf("mariadb-backup %v: %v\n%s", cmd.Args, err, errb.String())
		}
		for _, l := range strings.Split(errb.String(), "\n") {
			opts.StderrLine(l)
		}
		out, _ := os.ReadFile(genLog)
		var stmts []string
		for _, l := range strings.Split(string(out), "\n") {
			if _, q, ok := strings.Cut(l, "Query\t"); ok {
				stmts = append(stmts, q)
			}
		}
		return slices.Contains(cmd.Args, "--no-lock"), opts.Stats(), strings.Join(stmts, "\n")
	}
	locking := regexp.MustCompile(`(?i)BACKUP STAGE|BACKUP LOCK|FLUSH TABLES|LOCK TABLES`)

	noLock, stats, stmts := run(LocksAuto)
	if !noLock || stats["backup_locks"] != false || stats["lock_seconds"] != 0.0 {
		t.Errorf("InnoDB only, auto: --no-lock %v, stats %v", noLock, stats)
	}
	if m := locking.FindAllString(stmts, -1); len(m) != 0 || !strings.Contains(stmts, "Innodb_lsn_flushed") {
		t.Errorf("InnoDB only, auto: lock statements %q in\n%s", m, stmts)
	}
	noLock, stats, stmts = run(LocksAlways)
	if noLock || stats["backup_locks"] != true || !strings.Contains(stmts, "BACKUP STAGE BLOCK_COMMIT") {
		t.Errorf("always: --no-lock %v, stats %v, statements\n%s", noLock, stats, stmts)
	}
	if _, ok := stats["lock_seconds"].(float64); !ok {
		t.Errorf("always: no lock_seconds in %v", stats)
	}

	exec1("CREATE TABLE t.aria (id INT PRIMARY KEY) ENGINE=Aria")
	if noLock, stats, stmts = run(LocksAuto); noLock || stats["backup_locks"] != true || !strings.Contains(stmts, "BACKUP STAGE BLOCK_COMMIT") {
		t.Errorf("with an Aria table, auto: --no-lock %v, stats %v, statements\n%s", noLock, stats, stmts)
	}
	names, n, err := nonInnoDB(context.Background(), cfg)
	if err != nil || n != 1 || len(names) != 1 || names[0] != "t.aria (Aria)" {
		t.Errorf("nonInnoDB: %q %d %v", names, n, err)
	}
	if noLock, _, stmts = run(LocksNever); !noLock || locking.MatchString(stmts) {
		t.Errorf("never: --no-lock %v, statements\n%s", noLock, stmts)
	}
}
