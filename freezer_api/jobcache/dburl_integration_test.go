//go:build integration

package jobcache

import (
	"database/sql"
	"fmt"
	"net/url"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"freezer.dev/freezer/internal/testutil/testenv"
)

// testDatabaseURL creates a scratch MariaDB database for one test and
// drops it afterwards; the job cache tests then run on MariaDB.
func testDatabaseURL(t testing.TB) string {
	env := testenv.Load(t)
	host, port := env.Get(t, "MYSQL_HOST"), env.Get(t, "MYSQL_PORT")
	user := env.Get(t, "MYSQL_USER")
	pw, _ := env.Lookup("MYSQL_PASSWORD")
	admin, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/", user, pw, host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("fzapi_test_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("creating scratch database on %s:%s: %v", host, port, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s:%s)/", user, pw, host, port))
		if err == nil {
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
