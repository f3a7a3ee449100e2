//go:build integration

package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"freezer.dev/freezer/internal/testutil/dbserver"
	"freezer.dev/freezer/internal/testutil/loopfs"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// A --mode mysql backup written by the Python agent (Debian python3-freezer
// 13.0) without a snapshot restores with ours, given --mode mysql and no
// --engine (ours follows the stored backup: a tar backup), into a data
// directory a fresh mariadbd starts on with every row and every table
// checking OK.
//
// The server takes no writes while the Python agent runs: its mysql mode
// without a snapshot holds FLUSH TABLES WITH READ LOCK and tars the live
// data directory, which InnoDB keeps writing under that lock, so on a
// server under load it fails with tar's "file changed as we read it" (and
// would not be consistent if it did not). That is why ours refuses that
// method and streams a mariadb-backup hot backup instead.
func TestInteropPythonMySQLBackupRestoresWithOurs(t *testing.T) {
	env := testenv.Load(t)
	data := t.TempDir()
	dbserver.InitMariaDB(t, data)
	srv := dbserver.StartMariaDB(t, data)
	db, err := sql.Open("mysql", srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const rows = 500
	sqlExec(t, db, "CREATE DATABASE t")
	for _, tbl := range mariaTables {
		engine := map[string]string{"inno": "InnoDB", "aria": "Aria", "myisam": "MyISAM"}[tbl]
		sqlExec(t, db, fmt.Sprintf("CREATE TABLE t.%s (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=%s", tbl, engine),
			fmt.Sprintf("INSERT INTO t.%s SELECT seq, REPEAT('p', 200) FROM t.seq_1_to_%d", tbl, rows))
	}
	// Let InnoDB write its dirty pages now rather than while tar reads.
	sqlExec(t, db, "SET GLOBAL innodb_max_dirty_pages_pct = 0", "FLUSH TABLES")
	conf := filepath.Join(t.TempDir(), "mysql.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[default]\nhost = 127.0.0.1\nport = %d\nuser = root\npassword =\n", srv.Port)), 0o600)

	store := t.TempDir()
	common := []string{"--storage", "local", "--container", store, "--hostname", "h", "--backup-name", "pymysql", "--mode", "mysql"}
	python(t, env, append([]string{"--action", "backup", "--mysql-conf", conf, "--path-to-backup", data, "--compression", "gzip"}, common...)...)
	if m, _ := filepath.Glob(filepath.Join(store, "metadata", "tar", "h_pymysql", "*", "0_*", "metadata")); len(m) != 1 {
		t.Fatalf("python mysql backup: metadata %v", m)
	}

	dst := filepath.Join(t.TempDir(), "restored")
	ours(t, append([]string{"--action", "restore", "--restore-abs-path", dst}, common...)...)
	re := dbserver.StartMariaDB(t, dst)
	rdb, err := sql.Open("mysql", re.DSN("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	for _, tbl := range mariaTables {
		var table, op, typ, msg string
		if err := rdb.QueryRow("CHECK TABLE t."+tbl).Scan(&table, &op, &typ, &msg); err != nil {
			t.Fatalf("CHECK TABLE %s: %v\n%s", tbl, err, re.Log())
		}
		if msg != "OK" {
			t.Errorf("CHECK TABLE %s: %s %s", tbl, typ, msg)
		}
		var n, lo, hi int
		if err := rdb.QueryRow("SELECT COUNT(*), MIN(id), MAX(id) FROM t."+tbl).Scan(&n, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		if n != rows || lo != 1 || hi != rows {
			t.Errorf("%s: restored %d rows %d..%d, want 1..%d", tbl, n, lo, hi, rows)
		}
	}
}

// The other way: our --mode mysql backup taken from a btrfs snapshot (a
// tar backup; gzip, as the Python agent reads) restores with the Python
// agent, and a fresh mariadbd starts on what it restored. (Our hot
// backups are stream backups, an engine the Python agent does not have.)
func TestInteropOurMySQLSnapshotBackupRestoresWithPython(t *testing.T) {
	env := testenv.Load(t)
	mnt := loopfs.Btrfs(t, 1<<30)
	data := filepath.Join(mnt, "mysql")
	loopfs.Subvolume(t, data)
	dbserver.InitMariaDB(t, data)
	srv := dbserver.StartMariaDB(t, data)
	db, err := sql.Open("mysql", srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const rows = 300
	sqlExec(t, db, "CREATE DATABASE t",
		"CREATE TABLE t.inno (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=InnoDB",
		fmt.Sprintf("INSERT INTO t.inno SELECT seq, REPEAT('p', 200) FROM t.seq_1_to_%d", rows))
	conf := filepath.Join(t.TempDir(), "mysql.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[default]\nhost = 127.0.0.1\nport = %d\nuser = root\npassword =\n", srv.Port)), 0o600)
	store := t.TempDir()
	common := []string{"--storage", "local", "--container", store, "--hostname", "h", "--backup-name", "gomysql"}
	// agent(), not ours(): the snapshot needs the btrfs tool on PATH.
	if code, _, errOut := agent(t, append([]string{"--action", "backup", "--mode", "mysql", "--mysql-conf", conf, "--path-to-backup", data,
		"--snapshot", "btrfs", "--snapshot-journal", filepath.Join(t.TempDir(), "j"), "--compression", "gzip"}, common...)...); code != 0 {
		t.Fatalf("backup: %d %s", code, errOut)
	}

	dst := filepath.Join(t.TempDir(), "restored")
	python(t, env, append([]string{"--action", "restore", "--restore-abs-path", dst}, common...)...)
	re := dbserver.StartMariaDB(t, dst)
	rdb, err := sql.Open("mysql", re.DSN("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var table, op, typ, msg string
	if err := rdb.QueryRow("CHECK TABLE t.inno").Scan(&table, &op, &typ, &msg); err != nil || msg != "OK" {
		t.Fatalf("CHECK TABLE: %v %s %s\n%s", err, typ, msg, re.Log())
	}
	var n int
	if err := rdb.QueryRow("SELECT COUNT(*) FROM t.inno").Scan(&n); err != nil || n != rows {
		t.Errorf("restored %d rows (%v), want %d", n, err, rows)
	}
}
