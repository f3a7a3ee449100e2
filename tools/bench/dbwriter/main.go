// Command dbwriter is the writer of `make bench` section db: it commits
// numbered rows, one transaction each, into the tables of database t
// named in the environment variable DBWRITER_TABLES (comma-separated;
// default "inno,aria", an InnoDB and an Aria table) of the MariaDB at the
// go-sql-driver DSN in DBWRITER_DSN (no command line: only internal/config
// parses those, and this tool needs no options), one writer per table,
// until it gets SIGTERM or SIGINT. It then prints the number of commits
// (all tables) and, per table, the longest gap between two consecutive
// commits (how long writes were blocked at most) as "commits=N
// inno_gap_s=X aria_gap_s=Y".
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"
)

func main() {
	dsn := os.Getenv("DBWRITER_DSN")
	if dsn == "" {
		fmt.Fprintln(os.Stderr, "dbwriter: set DBWRITER_DSN")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	tables := []string{"inno", "aria"}
	if v := os.Getenv("DBWRITER_TABLES"); v != "" {
		tables = strings.Split(v, ",")
	}
	db.SetMaxOpenConns(len(tables))
	// One writer per table, each on its own connection: a commit blocked
	// in one engine (Aria, copied under a lock) does not hold up the
	// other's, so each gap is that engine's own.
	gaps := make([]time.Duration, len(tables))
	counts := make([]int, len(tables))
	var wg sync.WaitGroup
	for k, tbl := range tables {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last time.Time
			for i := 1; ctx.Err() == nil; i++ {
				// No ctx on the statement: a commit blocked by a backup's
				// lock is waited for, so its gap is measured in full.
				if _, err := db.Exec("INSERT INTO t."+tbl+" (id, pad) VALUES (?, REPEAT('w', 100))", i); err != nil {
					fmt.Fprintf(os.Stderr, "dbwriter: commit %d into %s: %v\n", i, tbl, err)
					os.Exit(1)
				}
				now := time.Now()
				if !last.IsZero() && now.Sub(last) > gaps[k] {
					gaps[k] = now.Sub(last)
				}
				last, counts[k] = now, i
			}
		}()
	}
	wg.Wait()
	n := 0
	var out strings.Builder
	for k, tbl := range tables {
		n += counts[k]
		fmt.Fprintf(&out, " %s_gap_s=%.3f", tbl, gaps[k].Seconds())
	}
	fmt.Printf("commits=%d%s\n", n, out.String())
}
