#!/usr/bin/env bash
# `make fuzz`: runs every Go fuzz target of the project, found by name so
# new ones join automatically: 30s each, and FUZZTIME_LONG (default 10m)
# each for the packages in LONG_PKGS: the rsync engine's header-list and
# block-delta readers, which apply whatever a damaged or forged level holds
# to files the target already has.
# FUZZTIME, when set, is the time for every target (e.g. FUZZTIME=20s for
# a quick check).
#
# A target fails only on a finding: a failing input written under
# testdata/fuzz/<target>/, or any failure other than the one below. Go
# 1.26's fuzz coordinator can end a run at -fuzztime with a bare "context
# deadline exceeded" and no input (golang/go#75804, fixed in Go 1.27); that
# is reported as a warning, not a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
LONG_PKGS=(freezer/engine/rsync)
fuzztime() {
	if [[ -n ${FUZZTIME:-} ]]; then
		echo "$FUZZTIME"
		return
	fi
	local p
	for p in "${LONG_PKGS[@]}"; do
		if [[ $1 == "$p" ]]; then
			echo "${FUZZTIME_LONG:-10m}"
			return
		fi
	done
	echo 30s
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=()
while read -r pkg; do
	t=$(fuzztime "$pkg")
	while read -r f; do
		echo "== $pkg $f ($t)"
		corpus=$pkg/testdata/fuzz/$f
		before=$(find "$corpus" -type f 2>/dev/null | sort || true)
		rc=0
		# A short minimisation keeps one interesting input from eating the run.
		go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" -fuzzminimizetime 3s "./$pkg/" </dev/null 2>&1 | tee "$out" || rc=$?
		((rc == 0)) && continue
		after=$(find "$corpus" -type f 2>/dev/null | sort || true)
		if [[ $before == "$after" ]] && grep -q '^    context deadline exceeded$' "$out" &&
			! grep -qE '^\s+(Failing input written|panic:)' "$out"; then
			echo "fuzz.sh: warning: $f ended with Go's fuzz deadline race (golang/go#75804), no failing input: not a finding" >&2
			continue
		fi
		failed+=("$pkg $f")
	done < <(grep -h '^func Fuzz' "$pkg"/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/')
done < <(grep -rl --include='*_test.go' '^func Fuzz' freezer freezer_api freezer_scheduler internal 2>/dev/null | xargs -n1 dirname | sort -u)
if ((${#failed[@]})); then
	printf 'fuzz.sh: finding in %s\n' "${failed[@]}" >&2
	exit 1
fi
