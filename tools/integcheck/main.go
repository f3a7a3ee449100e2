package main

import (
	"flag"
	"fmt"
	"os"
)

func main() { os.Exit(run()) }

func run() int {
	root := flag.String("root", ".", "the module's root directory")
	tag := flag.String("tag", "integration", "the build tag that marks integration test files")
	allow := flag.String("allow", "tools/integcheck/allowed-skips.txt", "the allow-list of skips")
	flag.Parse()

	c := &Checker{Tag: *tag}
	if err := c.LoadAllowList(*allow); err != nil {
		fmt.Fprintln(os.Stderr, "integcheck:", err)
		return 2
	}
	if err := c.Scan(*root); err != nil {
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
