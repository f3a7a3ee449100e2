package main

import (
	"fmt"
	"os"

	"freezer.dev/freezer/internal/config"
)

func main() { os.Exit(run()) }

// options are integcheck's command line.
func options() config.Schema {
	return config.Schema{
		{Name: "root", Default: ".", CLIOnly: true, Metavar: "DIR", Help: "The module's root directory."},
		{Name: "tag", Default: "integration", CLIOnly: true, Help: "The build tag that marks integration test files."},
		{Name: "allow", Default: "tools/integcheck/allowed-skips.txt", CLIOnly: true, Metavar: "FILE", Help: "The allow-list of skips."},
		config.HelpOpt(""),
	}
}

func run() int {
	v, rest, err := options().ParseCommandLine(os.Args[1:])
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "integcheck:", err)
		return 2
	}
	if v.Bool("", "help") {
		config.WriteHelp(os.Stdout, config.Help{Usage: "go test -json ... | go run ./tools/integcheck [--root DIR] [--tag TAG] [--allow FILE]",
			Description: "Fails when an integration test did not run or a test skipped without an allow-list entry."}, options())
		return 0
	}

	c := &Checker{Tag: v.String("", "tag")}
	if err := c.LoadAllowList(v.String("", "allow")); err != nil {
		fmt.Fprintln(os.Stderr, "integcheck:", err)
		return 2
	}
	if err := c.Scan(v.String("", "root")); err != nil {
		fmt.Fprintln(os.Stderr, "integcheck:", err)
		return 2
	}
	if err := c.Read(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "integcheck:", err)
		return 2
	}
	if problems := c.Report(os.Stdout); problems > 0 {
		return 1
	}
	return 0
}
