//go:build linux

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"freezer.dev/freezer/internal/testutil/dbserver"
	"freezer.dev/freezer/internal/testutil/loopfs"
)

// writer commits numbered rows, one transaction each, into an InnoDB, an
// Aria and a MyISAM table until stopped, and records the longest a commit waited.
type writer struct {
	db      *sql.DB
	stop    context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	n       int
	maxWait time.Duration
	err     error
}

// mariaTables are the writer's tables, one per storage engine.
var mariaTables = []string{"inno", "aria", "myisam"}

func startWriter(t *testing.T, db *sql.DB, tables []string) *writer {
	ctx, stop := context.WithCancel(context.Background())
	w := &writer{db: db, stop: stop}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for i := 1; ctx.Err() == nil; i++ {
			t0 := time.Now()
			for _, tbl := range tables {
				if _, err := db.Exec("INSERT INTO t."+tbl+" VALUES (?, REPEAT('x', 200))", i); err != nil {
					w.mu.Lock()
					w.err = err
					w.mu.Unlock()
					return
				}
			}
			d := time.Since(t0)
			w.mu.Lock()
			w.n = i
			if d > w.maxWait {
				w.maxWait = d
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *writer) finish(t *testing.T) (int, time.Duration) {
	w.stop()
	w.wg.Wait()
	if w.err != nil {
		t.Fatalf("writer: %v", w.err)
	}
	return w.n, w.maxWait
}

func sqlExec(t *testing.T, db *sql.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// checkRestoredMariaDB starts mariadbd on a restored data directory and
// checks every table: CHECK TABLE is OK and the rows are 1..N with no gap.
func checkRestoredMariaDB(t *testing.T, dir string, written int, tables []string) {
	t.Helper()
	srv := dbserver.StartMariaDB(t, dir)
	db, err := sql.Open("mysql", srv.DSN("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tbl := range tables {
		var table, op, typ, msg string
		if err := db.QueryRow("CHECK TABLE t."+tbl).Scan(&table, &op, &typ, &msg); err != nil {
			t.Fatalf("CHECK TABLE %s: %v\n%s", tbl, err, srv.Log())
		}
		if msg != "OK" {
			t.Errorf("CHECK TABLE %s: %s %s", tbl, typ, msg)
		}
		var n, lo, hi int
		if err := db.QueryRow("SELECT COUNT(*), COALESCE(MIN(id),0), COALESCE(MAX(id),0) FROM t."+tbl).Scan(&n, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		if n == 0 || lo != 1 || hi != n || hi > written {
			t.Errorf("%s: %d rows from %d to %d (writer wrote %d): not a prefix", tbl, n, lo, hi, written)
		}
		t.Logf("%s: restored rows 1..%d of %d written", tbl, hi, written)
	}
}

func runAgentJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--metadata-out", "-")...)
	cmd.Env = agentEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("freezer-agent %v: %v\n%s", args, err, errb.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("result %q: %v", out.String(), err)
	}
	return res
}

// A MariaDB taking writes into InnoDB and Aria is backed up twice while
// the writer runs — from a btrfs snapshot under FLUSH TABLES WITH READ
// LOCK, and hot with mariadb-backup — and each backup restores to a data
// directory a fresh mariadbd starts on, with tables that check OK and rows
// that are a prefix of what was written.
func TestBinaryMySQLSnapshotAndHotBackup(t *testing.T) {
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
	sqlExec(t, db, "CREATE DATABASE t",
		"CREATE TABLE t.inno (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=InnoDB",
		"CREATE TABLE t.aria (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=Aria",
		"CREATE TABLE t.myisam (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=MyISAM")
	conf := filepath.Join(t.TempDir(), "mysql.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[default]\nhost = 127.0.0.1\nport = %d\nuser = root\npassword =\n", srv.Port)), 0o600)
	store := t.TempDir()
	journal := filepath.Join(t.TempDir(), "journal")
	base := func(name string, extra ...string) []string {
		return append([]string{"--storage", "local", "--container", store, "--backup-name", name,
			"--compression", "zstd", "--snapshot-journal", journal, "--mode", "mysql"}, extra...)
	}

	w := startWriter(t, db, mariaTables)
	time.Sleep(300 * time.Millisecond)
	snap := runAgentJSON(t, base("snap", "--mysql-conf", conf, "--path-to-backup", data, "--snapshot", "btrfs")...)
	time.Sleep(300 * time.Millisecond)
	hot := runAgentJSON(t, base("hot", "--mysql-conf", conf, "--path-to-backup", data)...)
	time.Sleep(300 * time.Millisecond)
	written, maxWait := w.finish(t)

	if snap["snapshot"] != "btrfs" || snap["engine_name"] != "tar" {
		t.Errorf("snapshot backup: snapshot %v, engine %v", snap["snapshot"], snap["engine_name"])
	}
	// Aria and MyISAM tables: --mysql-hot-backup-locks auto keeps the locks.
	if hot["engine_name"] != "stream" || hot["hot_backup"] != "mariadb-backup" || hot["backup_locks"] != true {
		t.Errorf("hot backup: engine %v, hot_backup %v, backup_locks %v", hot["engine_name"], hot["hot_backup"], hot["backup_locks"])
	}
	for name, res := range map[string]map[string]any{"snapshot": snap, "hot": hot} {
		if _, ok := res["lock_seconds"].(float64); !ok {
			t.Errorf("%s backup: no lock_seconds in %v", name, res)
		}
	}
	t.Logf("lock held: FTWRL+btrfs snapshot %.3fs, mariadb-backup BLOCK_COMMIT..END %.3fs; longest commit the writer saw %v; %d rows written",
		snap["lock_seconds"], hot["lock_seconds"], maxWait, written)

	// No --engine: the restore follows the stored backup's metadata (tar).
	dstSnap := filepath.Join(t.TempDir(), "snap")
	if code, _, errOut := agent(t, base("snap", "--action", "restore", "--restore-abs-path", dstSnap)...); code != 0 {
		t.Fatalf("restore of the snapshot backup: %d %s", code, errOut)
	}
	checkRestoredMariaDB(t, dstSnap, written, mariaTables)

	dstHot := filepath.Join(t.TempDir(), "hot")
	if code, _, errOut := agent(t, base("hot", "--action", "restore", "--restore-abs-path", dstHot)...); code != 0 {
		t.Fatalf("restore of the hot backup: %d %s", code, errOut)
	}
	checkRestoredMariaDB(t, dstHot, written, mariaTables)
	if s, _ := filepath.Glob(filepath.Join(mnt, "mysql", ".freezer-snapshots", "*")); len(s) != 0 {
		t.Errorf("snapshots left: %v", s)
	}
}

// On a server whose tables are all InnoDB, the default hot backup runs
// mariadb-backup without its BACKUP STAGE locks (so commits never wait)
// while a writer commits numbered rows into two InnoDB tables; the backup
// still restores to a data directory a fresh mariadbd starts on, tables
// check OK and the rows are a gap-free prefix of what was written.
func TestBinaryMySQLHotBackupInnoDBOnlyNoLock(t *testing.T) {
	data := filepath.Join(t.TempDir(), "mysql")
	dbserver.InitMariaDB(t, data)
	srv := dbserver.StartMariaDB(t, data)
	db, err := sql.Open("mysql", srv.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables := []string{"inno", "inno2"}
	sqlExec(t, db, "CREATE DATABASE t",
		"CREATE TABLE t.inno (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=InnoDB",
		"CREATE TABLE t.inno2 (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=InnoDB")
	conf := filepath.Join(t.TempDir(), "mysql.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[default]\nhost = 127.0.0.1\nport = %d\nuser = root\npassword =\n", srv.Port)), 0o600)
	store := t.TempDir()
	args := []string{"--storage", "local", "--container", store, "--backup-name", "hot", "--compression", "zstd",
		"--mode", "mysql", "--mysql-conf", conf}

	w := startWriter(t, db, tables)
	time.Sleep(300 * time.Millisecond)
	hot := runAgentJSON(t, append(args, "--path-to-backup", data)...)
	time.Sleep(300 * time.Millisecond)
	written, maxWait := w.finish(t)
	if hot["engine_name"] != "stream" || hot["backup_locks"] != false || hot["lock_seconds"] != 0.0 {
		t.Errorf("InnoDB-only hot backup: engine %v, backup_locks %v, lock_seconds %v", hot["engine_name"], hot["backup_locks"], hot["lock_seconds"])
	}
	t.Logf("no-lock hot backup: longest commit the writer saw %v (indicative only under load); %d rows written", maxWait, written)

	dst := filepath.Join(t.TempDir(), "hot")
	if code, _, errOut := agent(t, append(args, "--action", "restore", "--restore-abs-path", dst)...); code != 0 {
		t.Fatalf("restore of the no-lock hot backup: %d %s", code, errOut)
	}
	checkRestoredMariaDB(t, dst, written, tables)
}
