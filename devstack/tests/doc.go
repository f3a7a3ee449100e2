// Package devstacktest runs the devstack plugin (devstack/plugin.sh) phase by
// phase against the real test environment and checks what it set up.
//
// The work is done by run.sh, with the devstack helper functions the plugin
// calls supplied by shim.sh; both are shell because the plugin is shell and
// devstack sources it into one shell. The Go test only makes `make
// integration` run it and turns each FAIL line into a test error.
package devstacktest
