// Command freezer is the Freezer command-line client, a drop-in for
// python-freezerclient's `freezer`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"freezer.dev/freezer/freezer_api/cli"
	"freezer.dev/freezer/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := &cli.App{Name: "freezer", Version: version.Version, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := app.Run(ctx, os.Args[1:])
	if ctx.Err() != nil && code != 0 {
		code = 130 // interrupted, as cliff exits on SIGINT
	}
	stop()
	os.Exit(code)
}
