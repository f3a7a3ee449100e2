//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"freezer.dev/freezer/internal/testutil/dbserver"
)

// A PostgreSQL server taking numbered single-row transactions is backed
// up with --mode postgresql (pg_basebackup streamed into the pipeline) and
// restored into a new directory; a fresh server starts on it, pg_amcheck
// finds nothing wrong, and the rows are 1..N with no gap.
func TestBinaryPostgreSQLBaseBackup(t *testing.T) {
	dbserver.PostgresUser(t)
	root := dbserver.PublicDir(t)
	data := filepath.Join(root, "data")
	dbserver.InitPostgres(t, data)
	srv := dbserver.StartPostgres(t, data)
	srv.Psql(t, "CREATE TABLE t (id int PRIMARY KEY, pad text)")

	// One psql session, one transaction per statement.
	w := exec.Command("psql", srv.Args()...)
	stdin, err := w.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	sent := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := io.WriteString(stdin, fmt.Sprintf("INSERT INTO t VALUES (%d, repeat('x', 200));\n", i)); err != nil {
				return
			}
			mu.Lock()
			sent = i
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()

	conf := filepath.Join(t.TempDir(), "pg.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[default]\nhost = 127.0.0.1\nport = %d\nuser = postgres\n", srv.Port)), 0o600)
	store := t.TempDir()
	base := []string{"--storage", "local", "--container", store, "--backup-name", "pg", "--compression", "zstd", "--mode", "postgresql"}
	time.Sleep(500 * time.Millisecond)
	res := runAgentJSON(t, append(base, "--postgresql-conf", conf, "--path-to-backup", data)...)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-done
	stdin.Close()
	w.Wait()
	mu.Lock()
	written := sent
	mu.Unlock()
	if res["engine_name"] != "stream" || res["hot_backup"] != "pg_basebackup" {
		t.Errorf("result: engine %v, hot_backup %v", res["engine_name"], res["hot_backup"])
	}

	dst := filepath.Join(dbserver.PublicDir(t), "restored")
	if code, _, errOut := agent(t, append(base, "--action", "restore", "--restore-abs-path", dst)...); code != 0 {
		t.Fatalf("restore: %d %s", code, errOut)
	}
	dbserver.Chown(t, dst)
	re := dbserver.StartPostgres(t, dst)
	out, err := exec.Command(filepath.Join(dbserver.PGBin, "pg_amcheck"), "-h", "127.0.0.1", "-p", strconv.Itoa(re.Port),
		"-U", "postgres", "--install-missing", "--heapallindexed", "postgres").CombinedOutput()
	if err != nil {
		t.Errorf("pg_amcheck: %v\n%s", err, out)
	}
	got := strings.TrimSpace(re.Psql(t, "SELECT count(*) || ' ' || coalesce(min(id),0) || ' ' || coalesce(max(id),0) FROM t"))
	var n, lo, hi int
	fmt.Sscan(got, &n, &lo, &hi)
	if n == 0 || lo != 1 || hi != n || hi > written {
		t.Errorf("restored %d rows from %d to %d (sent %d): not a prefix", n, lo, hi, written)
	}
	t.Logf("restored rows 1..%d of %d sent", hi, written)
}
