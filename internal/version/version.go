// Package version holds the build's version string, stamped by the Makefile
// through -ldflags so that every binary reports the same value.
package version

// Version is overwritten at link time:
//
//	-ldflags "-X freezer.dev/freezer/internal/version.Version=1.2.3"
//
// It is a var, not a const, precisely so the linker can set it.
var Version = "0.0.0-dev"

// Upstream is the upstream OpenStack Freezer release whose contract
// (API, options, on-storage layout) this build implements.
const Upstream = "13.0.0"

// String returns the version as printed by --version.
func String() string { return Version }
