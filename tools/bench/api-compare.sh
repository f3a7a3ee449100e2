#!/usr/bin/env bash
# `make bench-api-compare BASE=<git revision>`: our freezer-api as built
# now ($BUILD) against our freezer-api as built at BASE, both on a fresh
# MariaDB database of their own, same Keystone, same seed, same scenarios,
# the two taking turns to go first in every round (freezer-api-bench's
# reference mode). It answers "did this change cost API speed?" with a
# ratio from one run, which two separate `make bench` runs cannot: rounds
# of the same code vary by up to a third between runs.
#
# Knobs: BENCH_API_JOBS=10000 BENCH_API_BACKUPS=100000 (both servers),
#   BENCH_API_CONCURRENCY=200 BENCH_API_DURATION=10s BENCH_API_ROUNDS=5,
#   BENCH_API_PORT=9094 (and the port after it, for BASE),
#   BENCH_WORK (scratch, /var/tmp). Needs `make build` and `make testenv-up`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

BASE=${1:-${BASE:-}}
[[ -n $BASE ]] || die "usage: $0 REVISION (or make bench-api-compare BASE=REVISION)"
BUILD=${FREEZER_BUILD_DIR:-$ROOT/build}
JOBS=${BENCH_API_JOBS:-10000} BACKUPS=${BENCH_API_BACKUPS:-100000}
CONC=${BENCH_API_CONCURRENCY:-200} DUR=${BENCH_API_DURATION:-10s}
ROUNDS=${BENCH_API_ROUNDS:-5} PORT=${BENCH_API_PORT:-9094}
BASE_PORT=$((PORT + 1))
need_cmd mysql curl git go
for b in freezer-api freezer-manage freezer-api-bench; do
  [[ -x $BUILD/$b ]] || die "$BUILD/$b missing: run make build"
done
load_testenv

WORK=$(mktemp -d "${BENCH_WORK:-/var/tmp}/freezer-api-compare.XXXXXX")
MYSQL=(mysql -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER")
[[ -n ${MYSQL_PASSWORD:-} ]] && MYSQL+=(-p"$MYSQL_PASSWORD")
DBS=("fzapi_cmp_new_$$" "fzapi_cmp_base_$$")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  for d in "${DBS[@]}"; do "${MYSQL[@]}" -e "DROP DATABASE IF EXISTS $d" || true; done
  git -C "$ROOT" worktree remove --force "$WORK/src" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# BASE's programs, built from a detached worktree of this repository.
rev=$(git -C "$ROOT" rev-parse --short "$BASE^{commit}") || die "$BASE is not a revision of this repository"
git -C "$ROOT" worktree add -q --detach "$WORK/src" "$rev"
mkdir -p "$WORK/base"
(cd "$WORK/src" && go build -o "$WORK/base/" ./freezer_api/cmd/freezer-api ./freezer_api/cmd/freezer-manage) ||
  die "building $rev failed"

# start BINDIR DB PORT NAME: a fresh database, schema by that build's
# freezer-manage, the server in the background (pid appended to PIDS).
start() {
  local bin=$1 db=$2 port=$3 name=$4 url_pw=${MYSQL_PASSWORD:+:$MYSQL_PASSWORD}
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthcheck" 2>/dev/null; then
    die "port $port is taken; set BENCH_API_PORT"
  fi
  "${MYSQL[@]}" -e "CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
  cat >"$WORK/$name.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
log_file = $WORK/$name.log
[database]
connection = mysql+pymysql://$MYSQL_USER$url_pw@$MYSQL_HOST:$MYSQL_PORT/$db?charset=utf8
max_pool_size = 30
max_overflow = 30
[keystone_authtoken]
auth_url = $OS_AUTH_URL
username = $FREEZER_SVC_USERNAME
password = $FREEZER_SVC_PASSWORD
project_name = $FREEZER_SVC_PROJECT_NAME
CONF
  "$bin/freezer-manage" --config-file "$WORK/$name.conf" db sync >"$WORK/$name-sync.log" 2>&1 ||
    die "$name: db sync failed: $(tail -n 5 "$WORK/$name-sync.log")"
  "$bin/freezer-api" --config-file "$WORK/$name.conf" >"$WORK/$name.out" 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 100); do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthcheck" 2>/dev/null && return 0
    sleep 0.2
  done
  die "$name does not answer on :$port: $(tail -n 5 "$WORK/$name.out")"
}
start "$BUILD" "${DBS[0]}" "$PORT" new
start "$WORK/base" "${DBS[1]}" "$BASE_PORT" base

export OS_AUTH_URL OS_USERNAME="$DEMO_OS_USERNAME" OS_PASSWORD="$DEMO_OS_PASSWORD" \
  OS_PROJECT_NAME="$DEMO_OS_PROJECT_NAME" OS_PROJECT_ID="$DEMO_OS_PROJECT_ID" \
  OS_USER_DOMAIN_NAME="$DEMO_OS_USER_DOMAIN_NAME" OS_PROJECT_DOMAIN_NAME="$DEMO_OS_PROJECT_DOMAIN_NAME"
echo "api-compare: $(git -C "$ROOT" rev-parse --short HEAD) (ours) against $rev (reference), $JOBS jobs / $BACKUPS backups each" >&2
"$BUILD/freezer-api-bench" --url "http://127.0.0.1:$PORT" --ref-url "http://127.0.0.1:$BASE_PORT" \
  --jobs "$JOBS" --backups "$BACKUPS" --ref-jobs "$JOBS" --ref-backups "$BACKUPS" \
  --concurrency "$CONC" --duration "$DUR" --rounds "$ROUNDS" --pid "${PIDS[0]}" --ref-pid "${PIDS[1]}" \
  >"$WORK/bench.out" 2>"$WORK/bench.err" || die "freezer-api-bench failed: $(tail -n 5 "$WORK/bench.err")"
echo "== freezer-api: HEAD ($(git -C "$ROOT" rev-parse --short HEAD)) as 'ours', $rev as 'reference'; median of $ROUNDS alternating rounds =="
grep -v '^# ours Vm' "$WORK/bench.out"
awk '
  !/^#/ && length($0) > 40 && substr($0, 18, 10) ~ /^(ours|reference)/ {
    sc = substr($0, 1, 16); sub(/ +$/, "", sc); split(substr($0, 28), f, " ")
    if (substr($0, 18, 4) == "ours") { ours[sc] = f[1]; order[k++] = sc } else ref[sc] = f[1]
  }
  END {
    print "ratios (HEAD / base, req/s):"
    for (i = 0; i < k; i++) { sc = order[i]; printf "  %-16s %.2fx\n", sc, (ref[sc] > 0) ? ours[sc] / ref[sc] : 0 }
  }' "$WORK/bench.out"
for i in 0 1; do
  name=$([[ $i == 0 ]] && echo HEAD || echo "$rev")
  echo "peak RSS $name: $(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/${PIDS[$i]}/status") MiB"
done
