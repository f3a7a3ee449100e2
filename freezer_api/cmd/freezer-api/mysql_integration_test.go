//go:build integration

package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"freezer.dev/freezer/internal/testutil/testenv"
)

// TestServeOnMariaDB: freezer-api refuses an unmigrated MySQL database
// with a hint, and serves once the schema exists.
func TestServeOnMariaDB(t *testing.T) {
	env := testenv.Load(t)
	host, port, user := env.Get(t, "MYSQL_HOST"), env.Get(t, "MYSQL_PORT"), env.Get(t, "MYSQL_USER")
	pw, _ := env.Lookup("MYSQL_PASSWORD")
	admin, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/", user, pw, host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	db := fmt.Sprintf("fzapi_cmd_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec("DROP DATABASE " + db)
	cred := user
	if pw != "" {
		cred += ":" + pw
	}
	conf := writeConf(t, fmt.Sprintf("[DEFAULT]\nbind_host=127.0.0.1\nbind_port=0\n[api]\nauth_strategy=noauth\n[database]\nconnection=mysql+pymysql://%s@%s:%s/%s?charset=utf8\n", cred, host, port, db))
	// The refusal is logged, and without a log file oslo.log's default
	// destination is standard output: look at both streams.
	var outb, errb bytes.Buffer
	if c := run(context.Background(), []string{"--config-file", conf}, &outb, &errb, nil); c != 1 || !strings.Contains(outb.String()+errb.String(), "freezer-manage db sync") {
		t.Fatalf("unmigrated database: exit %d: %s%s", c, outb.String(), errb.String())
	}
	if _, err := admin.Exec("USE " + db); err != nil {
		t.Fatal(err)
	}
	// Migrate through the store, as freezer-manage does.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sync := writeConf(t, fmt.Sprintf("[database]\nconnection=mysql+pymysql://%s@%s:%s/%s\n", cred, host, port, db))
	if err := migrateForTest(ctx, sync); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--config-file", conf}, io.Discard, io.Discard, func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case c := <-code:
		t.Fatalf("exited %d", c)
	case <-time.After(30 * time.Second):
		t.Fatal("no start")
	}
	res, err := http.Get(base + "/healthcheck")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthcheck: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("exit %d", c)
	}
}
