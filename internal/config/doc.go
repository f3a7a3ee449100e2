// Package config is the one option model of every program: a Schema
// declares each option once (name, type, default, help, short, alias and
// deprecated names, command-line-only, and "accepted but not supported
// here" or "no effect here" with the reason), and everything else derives
// from it: the command-line parser (Schema.ParseArgs), the oslo-style INI
// reader that loads operators' freezer-api.conf and scheduler.conf files
// unchanged (Schema.Bind), the configparser-compatible reader of the
// agent's job files (Schema.ReadJob), --help (WriteHelp) and the commented
// samples in etc/freezer (WriteSample). All of them end in one Values, and
// every boolean is read by ParseBool.
//
// Precedence is the usual one: explicit overrides (command line,
// environment) > files (later files and --config-dir files win) > defaults.
// No other package parses a command line (onlyparser_test.go checks it).
package config
