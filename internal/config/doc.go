// Package config reads oslo-style INI configuration the way OpenStack
// services do, so that operators' existing freezer-api.conf and
// scheduler.conf files load unchanged, and renders commented samples from
// the same option schema the programs use (the samples are generated, never
// written by hand).
//
// Precedence is the usual one: explicit overrides (command line,
// environment) > files (later files and --config-dir files win) > defaults.
package config
