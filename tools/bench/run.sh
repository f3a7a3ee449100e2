#!/usr/bin/env bash
# `make bench`: measures our programs against references run in the same
# command, prints one table and writes it to tools/bench/results/<UTC time>.txt.
#
# Sections (BENCH=agent,swift,api,cli,db,rsync; default all six):
#   agent  local storage: full, 1 % incremental, restore; ours (zstd+fzae1,
#          gzip+openssl) vs tar|zstd|openssl and the Python freezer-agent
#   swift  backup/restore to the test environment's Swift, ours vs Python
#          agent, and our peak RSS at two data sizes
#   api    freezer-api-bench: our freezer-api vs the upstream Python one,
#          both on MariaDB behind the test environment's Keystone
#   cli    the freezer client: job-list and start-up, ours vs
#          python-freezerclient, wall time and peak RSS (BENCH_CLI_*, cli.sh)
#   db     how long a --mode mysql backup blocks writes, per method, on a
#          scratch mariadbd on a btrfs loop mount (root; BENCH_DB_MB, db.sh)
#   rsync  level 1 of a VM-image-like file after 1 % of its blocks are
#          rewritten or 64 MiB appended: --engine rsyncv2 vs a cold read,
#          restic, borg and the tar engine; our peak RSS at two sizes
#          (BENCH_RSYNC_*, rsync.sh)
# Knobs: BENCH_SCALE (agent tree, 1 = ~2.18 GB), BENCH_REPS (rounds, 2),
#   BENCH_SWIFT_REPS (3), BENCH_SWIFT_SCALE (0.25 = ~0.55 GB),
#   BENCH_SWIFT_SCALE2 (second RSS point, 1), BENCH_API_* (see api.sh), BENCH_WORK (scratch, /var/tmp).
# Needs `make build` (the Makefile's bench target does it) and, for swift
# and api, `make testenv-up`. A section whose step fails prints FAILED, no
# numbers, and makes the command exit non-zero.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tools/bench
# shellcheck source=lib.sh
source "$HERE/lib.sh"

export BUILD=${FREEZER_BUILD_DIR:-$ROOT/build}
SECTIONS=${BENCH:-agent,swift,api,cli,db,rsync}
for s in ${SECTIONS//,/ }; do
  case $s in agent | swift | api | cli | db | rsync) ;; *) die "unknown section '$s' in BENCH (agent, swift, api, cli, db, rsync)" ;; esac
done
need_cmd go
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing (apt-get install -y --no-install-recommends time)"
for b in freezer-agent freezer-api freezer-manage freezer-api-bench freezer; do
  [[ -x $BUILD/$b ]] || die "$BUILD/$b missing: run make build"
done

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$HERE/results
mkdir -p "$RESULTS"
OUT=$RESULTS/$STAMP.txt
export WORK
WORK=$(mktemp -d "${BENCH_WORK:-/var/tmp}/freezer-bench.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/bin"
export MKDATA=$WORK/bin/mkdata
(cd "$ROOT" && go build -o "$MKDATA" ./tools/bench/mkdata)

{
  echo "freezer make bench, $STAMP, sections: $SECTIONS"
  echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/2^20}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "ours: $("$BUILD/freezer-agent" --version 2>&1 | head -n 1)"
} >"$OUT"

failed=()
for s in ${SECTIONS//,/ }; do
  export LOGDIR=$WORK/logs-$s DATA=$WORK/data-$s
  mkdir -p "$LOGDIR"
  : >"$DATA"
  echo "== bench section $s ($(date -u +%H:%M:%S) UTC) ==" >&2
  if bash "$HERE/$s.sh" >"$WORK/table-$s"; then
    { echo; cat "$WORK/table-$s"; } >>"$OUT"
  else
    failed+=("$s")
    # Keep the logs of a failed section for inspection; no numbers from it.
    keep=$RESULTS/$STAMP-$s-logs
    cp -r "$LOGDIR" "$keep" 2>/dev/null || true
    { echo; echo "== $s: FAILED (no figures reported; logs in $keep) =="; } >>"$OUT"
  fi
done

echo >&2
cat "$OUT"
echo "(written to $OUT)"
if ((${#failed[@]})); then
  echo "bench: FAILED sections: ${failed[*]}" >&2
  exit 1
fi
