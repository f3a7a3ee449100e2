// Command integcheck reads the `go test -json` output of the integration
// run on its standard input and fails the run when it was incomplete: when
// a test defined in a file built only with the integration tag did not run
// (a package that did not build, a TestMain that exited early, a file whose
// tag was mistyped), or when any test or subtest skipped without an entry
// in the allow-list.
//
//	go test -tags integration -json ./... 2>&1 | go run ./tools/integcheck
//
// It prints the run as `go test` without -v would (package results, and
// the output of failed and skipped tests), then a summary.
//
// The allow-list (allowed-skips.txt beside this file) has one skip per
// line: a package (import path below the module, or "*" for any), a test
// name pattern (path.Match, so "FuzzX/*" covers its seeds) and the reason.
// An entry without a reason is an error.
package main
