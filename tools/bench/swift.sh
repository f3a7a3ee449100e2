#!/usr/bin/env bash
# Section "swift" of `make bench`: backup and restore throughput
# to the test environment's Swift (loopback, Keystone, demo user) for our
# agent (zstd + fzae1; gzip + openssl) and the Python freezer-agent (gzip +
# its encryption) on the same generated tree, and our peak RSS at two data
# sizes (it must not grow with the data). Called by run.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

SCALE=${BENCH_SWIFT_SCALE:-0.25}
SCALE2=${BENCH_SWIFT_SCALE2:-1}
# Three rounds by default: a restore here takes under 2 s and the first
# one after the backups was up to 60 % slower than the others (Swift
# settling after the writes); with two rounds that one run moved the
# "median" (a mean of two) by a third, for ours and upstream alike.
REPS=${BENCH_SWIFT_REPS:-${BENCH_REPS:-3}}
PY=${PYTHON_FREEZER_AGENT:-/usr/bin/freezer-agent}
SEG=${BENCH_SWIFT_SEGMENT:-33554432}
need_cmd swift diff
[[ -x $PY ]] || die "$PY missing (apt-get install python3-freezer)"
load_testenv
demo_os_env
# The servers every agent run here talks to, sharing the machine's cores:
# measure records their CPU time per run (column "svc CPU s").
export BENCH_SERVICES='swift-(proxy|object|container|account)-server|keystone uWSGI|memcached'

W=$WORK/swift
rm -rf "$W"
mkdir -p "$W"
KEY=$W/key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEY"
echo >>"$KEY"
TAG=fzbench_$$_$RANDOM
CONTAINERS=()

cleanup() {
  local c
  [[ -n ${DST:-} ]] && rm -rf "$DST"
  for c in "${CONTAINERS[@]}"; do
    # The agents put segments in <container>_segments (ours and upstream).
    swift delete "$c" >/dev/null 2>&1 || true
    swift delete "${c}_segments" >/dev/null 2>&1 || true
  done
  # Anything else this run created (a prefix match on our tag).
  local left
  left=$(swift list --prefix "$TAG" 2>/dev/null || true)
  for c in $left; do swift delete "$c" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

swift stat >/dev/null || die "Swift at $SWIFT_URL does not answer for the demo user"

gen() { # DIR SCALE
  echo "swift: generating a tree (scale $2)" >&2
  "$MKDATA" full --out "$1" --scale "$2" >&2
  tar -C "$1" -cf - . | cat >/dev/null
}

SRC=$W/src
gen "$SRC" "$SCALE"
BYTES=$(tree_bytes "$SRC")
FILES=$(tree_files "$SRC")

agent_args() { # TOOL CONTAINER
  local a=(--storage swift --container "$2" --backup-name bench --hostname bench
    --encrypt-pass-file "$KEY" --max-segment-size "$SEG")
  case $1 in
  ours-zstd) a+=(--compression zstd) ;;
  ours-gzip) a+=(--compression gzip --encryption-format openssl) ;;
  python) a+=(--compression gzip) ;;
  esac
  printf '%s\n' "${a[@]}"
}

run_agent() { # LABEL TOOL ARGS...
  local label=$1 tool=$2
  shift 2
  if [[ $tool == python ]]; then
    measure "$label" env PYTHONWARNINGS=ignore "$PY" "$@"
  else
    measure "$label" "$BUILD/freezer-agent" "$@"
  fi
}

order() { if (($1 % 2)); then echo ours-zstd python ours-gzip; else echo python ours-gzip ours-zstd; fi; }

echo "swift: backups ($REPS rounds, a fresh container each)" >&2
declare -A LAST=()
for ((r = 1; r <= REPS; r++)); do
  for t in $(order "$r"); do
    c=${TAG}_${t}_$r
    CONTAINERS+=("$c")
    mapfile -t args < <(agent_args "$t" "$c")
    run_agent "backup.$t#$r" "$t" --action backup --path-to-backup "$SRC" "${args[@]}"
    LAST[$t]=$c
  done
done

echo "swift: restores ($REPS rounds, each verified with diff -r)" >&2
RESTORE_BASE=$(restore_base "$BYTES" "$W")
prefault "$RESTORE_BASE" "$BYTES"
DST=$RESTORE_BASE/freezer-bench-restore.$$
RESTORE_FS=$(stat -f -c %T "$RESTORE_BASE")
for ((r = 1; r <= REPS; r++)); do
  for t in $(order "$r"); do
    rm -rf "$DST"
    mapfile -t args < <(agent_args "$t" "${LAST[$t]}")
    run_agent "restore.$t#$r" "$t" --action restore --restore-abs-path "$DST" "${args[@]}"
    verify_same "$SRC" "$DST"
  done
done
rm -rf "$DST"

# Second size for the RSS: the agent section's tree when it ran in this
# command (same seed, larger), else a new one.
BIG=$WORK/agent/src
if [[ ! -d $BIG ]]; then
  BIG=$W/big
  gen "$BIG" "$SCALE2"
fi
BYTES2=$(tree_bytes "$BIG")
c=${TAG}_big
CONTAINERS+=("$c")
mapfile -t args < <(agent_args ours-zstd "$c")
echo "swift: our backup of the larger tree (RSS at a second size)" >&2
run_agent "big.ours-zstd" ours-zstd --action backup --path-to-backup "$BIG" "${args[@]}"

{
  echo "== swift storage, loopback, demo user via Keystone =="
  printf 'tree: scale %s, %s files, %.2f GB (%.0f MiB); segment size %s; %s rounds, order alternated; sync before each run;\n' \
    "$SCALE" "$FILES" "$(awk -v b="$BYTES" 'BEGIN{print b/1e9}')" "$(awk -v b="$BYTES" 'BEGIN{print b/2^20}')" "$SEG" "$REPS"
  echo "  fresh container per backup; restores of the last backup into an empty directory on $RESTORE_FS ($RESTORE_BASE),"
  echo "  verified with diff -r (outside the timing)"
  echo "  CPU s: the agent's (with its children); svc CPU s: Swift's servers, Keystone and memcached during the run"
  printf '%-8s %-10s %-18s %9s %8s %8s %10s %9s\n' step tool "wall s (rounds)" "median s" "MB/s" "CPU s" "svc CPU s" "RSS MiB"
  for step in backup restore; do
    for t in ours-zstd ours-gzip python; do
      w=$(median_of "$step.$t" 2)
      printf '%-8s %-10s %-18s %9.2f %8s %8.2f %10.2f %9s\n' "$step" "$t" "$(runs_of "$step.$t")" "$w" "$(mbps "$BYTES" "$w")" \
        "$(median_of "$step.$t" 3)" "$(median_of "$step.$t" 5)" "$(max_rss_mib "$step.$t")"
    done
  done
  w=$(median_of big.ours-zstd 2)
  printf '%-8s %-10s %-18s %9.2f %8s %8.2f %10.2f %9s   <- %.2f GB tree\n' backup ours-zstd "$(runs_of big.ours-zstd)" "$w" \
    "$(mbps "$BYTES2" "$w")" "$(median_of big.ours-zstd 3)" "$(median_of big.ours-zstd 5)" "$(max_rss_mib big.ours-zstd)" \
    "$(awk -v b="$BYTES2" 'BEGIN{print b/1e9}')"
  by=$(median_of backup.python 2) ry=$(median_of restore.python 2)
  echo "ratios:"
  x=$(ratio "$by" "$(median_of backup.ours-zstd 2)"); printf '  backup, ours-zstd / python throughput   %6sx  (target >= 5x: %s)\n' "$x" "$(verdict "$x" '>=' 5)"
  x=$(ratio "$by" "$(median_of backup.ours-gzip 2)"); printf '  backup, ours-gzip / python throughput   %6sx  (target >= 5x: %s)\n' "$x" "$(verdict "$x" '>=' 5)"
  x=$(ratio "$ry" "$(median_of restore.ours-zstd 2)"); printf '  restore, ours-zstd / python throughput  %6sx  (target >= 5x: %s)\n' "$x" "$(verdict "$x" '>=' 5)"
  x=$(ratio "$ry" "$(median_of restore.ours-gzip 2)"); printf '  restore, ours-gzip / python throughput  %6sx  (target >= 5x: %s)\n' "$x" "$(verdict "$x" '>=' 5)"
  # What a 5x restore has to fit in on this machine: Python's time / 5,
  # against the CPU our restore and the servers feeding it used.
  awk -v ry="$ry" -v c="$(median_of restore.ours-zstd 3)" -v sv="$(median_of restore.ours-zstd 5)" -v n="$(nproc)" \
    'BEGIN { if (ry + 0 > 0) printf "  a 5x restore takes <= %.2f s here; ours-zstd used %.2f CPU s and the servers %.2f: >= %.2f s on %d cores with no idle moment\n", ry / 5, c, sv, (c + sv) / n, n }'
  r1=$(max_rss_mib backup.ours-zstd) r2=$(max_rss_mib big.ours-zstd)
  printf '  our backup peak RSS: %s MiB at %.2f GB, %s MiB at %.2f GB (ratio %s; flat if ~1.0)\n' \
    "$r1" "$(awk -v b="$BYTES" 'BEGIN{print b/1e9}')" "$r2" "$(awk -v b="$BYTES2" 'BEGIN{print b/1e9}')" "$(ratio "$r2" "$r1")"
}
