// Command freezer-loadpoll simulates many freezer-schedulers polling one
// freezer-api and reports the poll latencies:
//
//	freezer-loadpoll --schedulers 500 --interval 10s --duration 2m --max-p99 50ms
//
// It authenticates like the scheduler, from the OS_* environment (or, with
// --endpoint and --project, against a no-auth API). It exits 1 if a poll
// failed or the 99th percentile exceeds --max-p99.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/tools/loadpoll"
)

// options are freezer-loadpoll's command line; getenv gives the defaults
// of --endpoint and --project.
func options(getenv func(string) string) config.Schema {
	return config.Schema{
		{Name: "schedulers", Type: config.Int, Default: "500", CLIOnly: true, Help: "Simulated schedulers."},
		{Name: "interval", Default: "10s", CLIOnly: true, Help: "Polling interval of each scheduler (a Go duration)."},
		{Name: "duration", Default: "1m0s", CLIOnly: true, Help: "Length of the run."},
		{Name: "jobs", Type: config.Int, Default: "1", CLIOnly: true, Help: "Jobs created per simulated scheduler."},
		{Name: "max_p99", Default: "50ms", CLIOnly: true, Help: "Fail if the 99th percentile is above this (0: never)."},
		{Name: "endpoint", Default: getenv("OS_BACKUP_URL"), CLIOnly: true, Help: "freezer-api endpoint (default: OS_BACKUP_URL or the catalog)."},
		{Name: "project", Default: getenv("OS_PROJECT_ID"), CLIOnly: true, Help: "Project id (needed without Keystone)."},
		{Name: "prefix", CLIOnly: true, Help: "Client id prefix (default <project>_loadnode)."},
		config.HelpOpt(""),
	}
}

func main() { os.Exit(run()) }

func run() int {
	opts := options(os.Getenv)
	v, rest, err := opts.ParseCommandLine(os.Args[1:])
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	var interval, duration, maxP99 time.Duration
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"interval", &interval}, {"duration", &duration}, {"max_p99", &maxP99}} {
		if err == nil {
			if *d.to, err = time.ParseDuration(v.String("", d.name)); err != nil {
				err = fmt.Errorf("--%s: %w", strings.ReplaceAll(d.name, "_", "-"), err)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-loadpoll:", err)
		return 2
	}
	if v.Bool("", "help") {
		config.WriteHelp(os.Stdout, config.Help{Usage: "freezer-loadpoll [options]",
			Description: "Simulates many schedulers polling freezer-api and reports the latency of their polls."}, opts)
		return 0
	}
	n, jobs := v.Int("", "schedulers"), v.Int("", "jobs")
	endpoint, project, prefix := v.String("", "endpoint"), v.String("", "project"), v.String("", "prefix")
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	c, err := client.Authenticate(ctx, client.AuthOptions{
		AuthURL: os.Getenv("OS_AUTH_URL"), Username: os.Getenv("OS_USERNAME"), Password: os.Getenv("OS_PASSWORD"),
		Token: os.Getenv("OS_TOKEN"), ProjectID: project, ProjectName: os.Getenv("OS_PROJECT_NAME"),
		ProjectDomainName: os.Getenv("OS_PROJECT_DOMAIN_NAME"), ProjectDomainID: os.Getenv("OS_PROJECT_DOMAIN_ID"),
		UserDomainName: os.Getenv("OS_USER_DOMAIN_NAME"), UserDomainID: os.Getenv("OS_USER_DOMAIN_ID"),
		RegionName: os.Getenv("OS_REGION_NAME"), Interface: os.Getenv("OS_INTERFACE"), Endpoint: endpoint,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-loadpoll:", err)
		return 1
	}
	rep, err := loadpoll.Run(ctx, c, loadpoll.Config{Schedulers: n, Interval: interval, Duration: duration,
		JobsPerScheduler: jobs, ClientPrefix: prefix, Seed: uint64(time.Now().UnixNano())})
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-loadpoll:", err)
		return 1
	}
	fmt.Println(rep)
	for _, e := range rep.FirstErrors {
		fmt.Println("error:", e)
	}
	if rep.Failures > 0 || (maxP99 > 0 && rep.P99 > maxP99) {
		return 1
	}
	return 0
}
