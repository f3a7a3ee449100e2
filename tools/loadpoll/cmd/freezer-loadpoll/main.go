// Command freezer-loadpoll simulates many freezer-schedulers polling one
// freezer-api and reports the poll latencies:
//
//	freezer-loadpoll -schedulers 500 -interval 10s -duration 2m -max-p99 50ms
//
// It authenticates like the scheduler, from the OS_* environment (or, with
// -endpoint and -project, against a no-auth API). It exits 1 if a poll
// failed or the 99th percentile exceeds -max-p99.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/tools/loadpoll"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("freezer-loadpoll", flag.ContinueOnError)
	n := fs.Int("schedulers", 500, "simulated schedulers")
	interval := fs.Duration("interval", 10*time.Second, "polling interval of each scheduler")
	duration := fs.Duration("duration", time.Minute, "length of the run")
	jobs := fs.Int("jobs", 1, "jobs created per simulated scheduler")
	maxP99 := fs.Duration("max-p99", 50*time.Millisecond, "fail if the 99th percentile is above this (0: never)")
	endpoint := fs.String("endpoint", os.Getenv("OS_BACKUP_URL"), "freezer-api endpoint (default: OS_BACKUP_URL or the catalog)")
	project := fs.String("project", os.Getenv("OS_PROJECT_ID"), "project id (needed without Keystone)")
	prefix := fs.String("prefix", "", "client id prefix (default <project>_loadnode)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	c, err := client.Authenticate(ctx, client.AuthOptions{
		AuthURL: os.Getenv("OS_AUTH_URL"), Username: os.Getenv("OS_USERNAME"), Password: os.Getenv("OS_PASSWORD"),
		Token: os.Getenv("OS_TOKEN"), ProjectID: *project, ProjectName: os.Getenv("OS_PROJECT_NAME"),
		ProjectDomainName: os.Getenv("OS_PROJECT_DOMAIN_NAME"), ProjectDomainID: os.Getenv("OS_PROJECT_DOMAIN_ID"),
		UserDomainName: os.Getenv("OS_USER_DOMAIN_NAME"), UserDomainID: os.Getenv("OS_USER_DOMAIN_ID"),
		RegionName: os.Getenv("OS_REGION_NAME"), Interface: os.Getenv("OS_INTERFACE"), Endpoint: *endpoint,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-loadpoll:", err)
		return 1
	}
	rep, err := loadpoll.Run(ctx, c, loadpoll.Config{Schedulers: *n, Interval: *interval, Duration: *duration,
		JobsPerScheduler: *jobs, ClientPrefix: *prefix, Seed: uint64(time.Now().UnixNano())})
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-loadpoll:", err)
		return 1
	}
	fmt.Println(rep)
	for _, e := range rep.FirstErrors {
		fmt.Println("error:", e)
	}
	if rep.Failures > 0 || (*maxP99 > 0 && rep.P99 > *maxP99) {
		return 1
	}
	return 0
}
