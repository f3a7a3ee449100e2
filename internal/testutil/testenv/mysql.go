package testenv

import (
	"database/sql"
	"fmt"
	"net/url"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the scratch database is made through it
)

// ScratchMySQLURL creates an empty MariaDB database on the test
// environment's server for one test, drops it when the test ends, and
// returns its URL in freezer-api's [database] connection form.
func (e *Env) ScratchMySQLURL(t testing.TB) string {
	t.Helper()
	host, port := e.Get(t, "MYSQL_HOST"), e.Get(t, "MYSQL_PORT")
	user := e.Get(t, "MYSQL_USER")
	pw, _ := e.Lookup("MYSQL_PASSWORD")
	dsn := fmt.Sprintf("%s:%s@tcp(%s:%s)/", user, pw, host, port)
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("fzapi_test_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("creating scratch database on %s:%s: %v", host, port, err)
	}
	t.Cleanup(func() {
		if a, err := sql.Open("mysql", dsn); err == nil {
			a.Exec("DROP DATABASE IF EXISTS " + name)
			a.Close()
		}
	})
	u := url.URL{Scheme: "mysql+pymysql", Host: host + ":" + port, Path: "/" + name, RawQuery: "charset=utf8"}
	if pw != "" {
		u.User = url.UserPassword(user, pw)
	} else {
		u.User = url.User(user)
	}
	return u.String()
}
