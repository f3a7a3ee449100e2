// Package layout holds no code, only a test of the repository's layout as
// `go list` sees it: package agent depends on the interfaces of package
// backup and not on any engine, codec or storage implementation, and the
// product folders (freezer/, freezer_api/, freezer_scheduler/) hold the
// programs and their packages, while benchmarks and load tools live under
// tools/ and are built by name from the Makefile's TOOLS list.
package layout
