#!/usr/bin/env bash
# `make fuzz`: runs every Go fuzz target of the project for FUZZTIME each
# (default 30s). Targets are found by name, so new ones join automatically.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-30s}
grep -rl --include='*_test.go' '^func Fuzz' freezer freezer_api freezer_scheduler internal 2>/dev/null |
	xargs -n1 dirname | sort -u | while read -r pkg; do
	grep -h '^func Fuzz' "$pkg"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' | while read -r f; do
		echo "== $pkg $f ($t)"
		# A short minimisation keeps one interesting input from eating the run.
		go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" -fuzzminimizetime 3s "./$pkg/" </dev/null
	done
done
