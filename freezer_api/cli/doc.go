// Package cli is the `freezer` command-line client: every command of
// python-freezerclient 5.0 with its arguments, output (cliff's table, json,
// yaml, csv, value and shell formats, byte for byte) and exit statuses, so
// that scripts written against the Python client keep working; plus
// job-create from options, session-end, shell completion and version.
//
// Documents are kept as the server sent them (key order, ints apart from
// floats) and printed with Python's str, repr and pprint rules, since the
// Python client shows them that way.
package cli
