// Package systemdunits holds no code: its test checks the systemd units in
// this directory (freezer-api.service, freezer-scheduler.service and the
// root drop-in) with systemd-analyze, and that the hardening they promise
// in docs/operators.rst is still there.
package systemdunits
