//go:build integration

package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/freezer_api/store"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// A database that refuses another connection (here MariaDB's
// max_user_connections for the API's user, with the user's one connection
// held elsewhere) answers 503 with Retry-After and a JSON body, not 500;
// once the connection is free the same request succeeds.
func TestDatabaseOutOfConnectionsIs503(t *testing.T) {
	ctx := context.Background()
	env := testenv.Load(t)
	host, port := env.Get(t, "MYSQL_HOST"), env.Get(t, "MYSQL_PORT")
	rootURL := testDatabaseURL(t) // a scratch database, migrated below as root
	root, err := store.Open(ctx, rootURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := root.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(rootURL)
	dbName := strings.TrimPrefix(u.Path, "/")
	adminPW, _ := u.User.Password()
	admin, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/", u.User.Username(), adminPW, host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	user := fmt.Sprintf("fzlim%d", time.Now().UnixNano()%1e9)
	for _, q := range []string{
		"CREATE USER '" + user + "'@'%' IDENTIFIED BY 'pw' WITH MAX_USER_CONNECTIONS 1",
		"GRANT ALL ON " + dbName + ".* TO '" + user + "'@'%'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { admin.Exec("DROP USER IF EXISTS '" + user + "'@'%'") })

	limitedURL := fmt.Sprintf("mysql+pymysql://%s:pw@%s:%s/%s?charset=utf8", user, host, port, dbName)
	st, err := store.Open(ctx, limitedURL, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := newEnv(t, func(c *server.Config) { c.Store = jobcache.New(st, jobcache.Options{}) })
	// The store's idle connection (from Open's ping) is killed, as by a
	// database restart, and another client takes the user's one slot: the
	// next request finds its connection gone and cannot open another.
	var ids []int64
	rows, err := admin.Query("SELECT id FROM information_schema.processlist WHERE user = ?", user)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if _, err := admin.Exec(fmt.Sprint("KILL CONNECTION ", id)); err != nil {
			t.Fatal(err)
		}
	}
	holder, err := sql.Open("mysql", fmt.Sprintf("%s:pw@tcp(%s:%s)/%s", user, host, port, dbName))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	var conn *sql.Conn
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if conn, err = holder.Conn(ctx); err == nil {
			if err = conn.PingContext(ctx); err == nil {
				break
			}
			conn.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("taking the user's one connection: %v", err)
		}
	}
	r := e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 503, `{"title":"Service Unavailable"}`)
	if r.header.Get("Retry-After") == "" || r.str("request_id") == "" {
		t.Errorf("503 without Retry-After or request_id: %v %s", r.header, r.raw)
	}
	if !strings.Contains(e.logs.String(), "database unavailable") {
		t.Errorf("the 503 was not logged: %s", e.logs.String())
	}
	conn.Close()
	holder.Close()
	e.expect(memberP1, "GET", "/v2/p1/jobs", nil, 200, "")
}

// What the MySQL driver reports on its own (here that a pooled connection
// was closed by the server) reaches Options.DriverLog, which freezer-api
// points at its structured log, instead of the driver's stderr lines.
func TestMySQLDriverMessagesGoToDriverLog(t *testing.T) {
	ctx := context.Background()
	env := testenv.Load(t)
	host, port := env.Get(t, "MYSQL_HOST"), env.Get(t, "MYSQL_PORT")
	rootURL := testDatabaseURL(t)
	u, _ := url.Parse(rootURL)
	dbName := strings.TrimPrefix(u.Path, "/")
	pw, _ := u.User.Password()
	admin, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/", u.User.Username(), pw, host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()

	var mu sync.Mutex
	var got []string
	st, err := store.Open(ctx, rootURL, store.Options{MaxOpenConns: 1, DriverLog: func(msg string) {
		mu.Lock()
		got = append(got, msg)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The pool's one idle connection (from Open's ping) is the only
	// session on the scratch database; kill it and wait until the server
	// has closed it.
	var id int64
	if err := admin.QueryRow("SELECT id FROM information_schema.processlist WHERE db = ?", dbName).Scan(&id); err != nil {
		t.Fatalf("finding the store's connection: %v", err)
	}
	if _, err := admin.Exec(fmt.Sprint("KILL CONNECTION ", id)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed connection is still listed after 5 s")
		}
	}
	// The pool notices on reuse, says so through DriverLog and reconnects.
	if err := st.Ping(ctx); err != nil {
		t.Fatalf("ping after the kill: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), "bad idle connection") {
		t.Fatalf("driver messages %q: want the bad idle connection reported", got)
	}
}
