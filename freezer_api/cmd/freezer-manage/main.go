// Command freezer-manage administers freezer-api's database.
//
//	freezer-manage [--config-file F]... [--config-dir D]... [options] db sync|update|version|show|remove|import-upstream URL
//
// Unlike upstream, it exits non-zero when a command fails.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"freezer.dev/freezer/freezer_api/apiconf"
	"freezer.dev/freezer/freezer_api/store"
	"freezer.dev/freezer/freezer_api/upstream"
	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/logging"
	"freezer.dev/freezer/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cl := apiconf.ManageCommandLine()
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: %s\n(see freezer-manage --help)\n", apiconf.ManageHelp.Usage)
	}
	a, rest, err := apiconf.ParseArgs(cl, args)
	if err != nil {
		fmt.Fprintf(stderr, "freezer-manage: %v\n", err)
		usage(stderr)
		return 2
	}
	if a.Overrides.Bool("", "help") {
		if err := config.WriteHelp(stdout, apiconf.ManageHelp, cl); err != nil {
			return 1
		}
		return 0
	}
	if a.Overrides.Bool("", "version") {
		fmt.Fprintln(stdout, version.Version)
		return 0
	}
	if len(rest) < 2 || rest[0] != "db" || (rest[1] == "import-upstream") != (len(rest) == 3) {
		usage(stderr)
		return 2
	}
	cmd := rest[1]
	switch cmd {
	case "sync", "update", "version", "show", "remove", "import-upstream":
	case "update-settings":
		fmt.Fprintln(stderr, "freezer-manage: db update-settings only applied to the Elasticsearch backend, which is not supported")
		return 2
	default:
		fmt.Fprintf(stderr, "freezer-manage: unknown db command %q\n", cmd)
		usage(stderr)
		return 2
	}
	s, err := apiconf.Load(a)
	if err != nil {
		fmt.Fprintf(stderr, "freezer-manage: loading configuration: %v\n", err)
		return 2
	}
	log, closeLog, err := logging.New("freezer-manage", logging.Options{Output: stderr, Debug: s.Log.Debug, Quiet: !s.Log.Debug})
	if err != nil {
		fmt.Fprintf(stderr, "freezer-manage: %v\n", err)
		return 2
	}
	defer closeLog()
	s.ConnectRetries = 0
	st, err := apiconf.OpenStore(ctx, s, log)
	if err != nil {
		fmt.Fprintf(stderr, "freezer-manage: %v\n", err)
		return 1
	}
	defer st.Close()
	if cmd == "import-upstream" {
		if err := importUpstream(ctx, st, rest[2], stdout); err != nil {
			fmt.Fprintf(stderr, "freezer-manage: db import-upstream: %v\n", err)
			return 1
		}
		return 0
	}
	if err := dbCommand(ctx, st, cmd, stdout); err != nil {
		fmt.Fprintf(stderr, "freezer-manage: db %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func dbCommand(ctx context.Context, st *store.Store, cmd string, stdout io.Writer) error {
	switch cmd {
	case "sync", "update":
		applied, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		v, err := st.Version(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintf(stdout, "database schema is up to date (version %d)\n", v)
		} else {
			fmt.Fprintf(stdout, "applied migrations %v; database schema is at version %d\n", applied, v)
		}
	case "version":
		v, err := st.Version(ctx)
		if err != nil {
			return err
		}
		latest, err := st.LatestVersion()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "current: %d\nlatest: %d\n", v, latest)
	case "show":
		tables, err := st.Tables(ctx)
		if err != nil {
			return err
		}
		if tables == nil {
			tables = []string{}
		}
		b, _ := json.Marshal(tables)
		fmt.Fprintln(stdout, string(b))
	case "remove":
		if err := st.DropAll(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "all freezer-api tables dropped")
	}
	return nil
}

func importUpstream(ctx context.Context, st *store.Store, srcURL string, stdout io.Writer) error {
	if v, err := st.Version(ctx); err != nil {
		return err
	} else if latest, _ := st.LatestVersion(); v != latest {
		return fmt.Errorf("run `freezer-manage db sync` first")
	}
	src, err := store.Open(ctx, srcURL, store.Options{})
	if err != nil {
		return fmt.Errorf("opening the upstream database: %w", err)
	}
	defer src.Close()
	stats, err := upstream.Import(ctx, st, src)
	for _, s := range stats.Skipped {
		fmt.Fprintf(stdout, "skipped %s\n", s)
	}
	fmt.Fprintf(stdout, "imported %d clients, %d actions, %d jobs, %d sessions, %d backups\n",
		stats.Clients, stats.Actions, stats.Jobs, stats.Sessions, stats.Backups)
	return err
}
