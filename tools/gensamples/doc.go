// Command gensamples writes the sample configuration files in etc/freezer
// from the programs themselves, so that the samples are never edited by
// hand and always list every option with its default and help:
//
//	go run ./tools/gensamples          # rewrite etc/freezer/*.sample
//	go run ./tools/gensamples -check   # exit 1 when a committed sample drifted
//
// A sample is the output of its program's sample flag (for example
// `freezer-api --print-sample-config`, `freezer-api --print-policy`); the
// table is in samples.go. A Render function can stand in for a program
// that has no such flag. Programs
// are built from this checkout into a temporary directory unless -bin
// names a directory that already holds them (make build's build/).
//
// Its tests fail when a committed sample differs from what the code prints,
// and when a committed sample does not load in the program that owns it.
package main
