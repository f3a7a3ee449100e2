#!/usr/bin/env bash
# Section "api" of `make bench`: freezer-api-bench against our
# freezer-api (a fresh MariaDB database) and the upstream Python freezer-api
# (Debian python3-freezer-api under uwsgi, `tools/testenv/up.sh
# freezer-api-py`, database freezer_py on the same MariaDB), same Keystone,
# same demo user, in the same run; prints requests/s, p50, p99, the ratios
# and both servers' peak RSS. Called by run.sh.
#
# Knobs: BENCH_API_JOBS=10000 BENCH_API_BACKUPS=100000 (ours),
#   BENCH_API_REF_JOBS=3000 BENCH_API_REF_BACKUPS=10000 (upstream creates
#   ~50 backups/s, so 100k would take most of an hour; fewer rows only
#   make upstream faster, so the ratios err in its favour),
#   BENCH_API_CONCURRENCY=200 BENCH_API_DURATION=10s BENCH_API_PORT=9092
#   (and the port after it, for ours with the job read cache off),
#   BENCH_API_ROUNDS=3 (each scenario runs that many times per server, the
#   two taking turns to go first; the row is the median round: rounds of
#   the same code varied by up to a third, upstream's as much as ours).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

JOBS=${BENCH_API_JOBS:-10000} BACKUPS=${BENCH_API_BACKUPS:-100000}
REF_JOBS=${BENCH_API_REF_JOBS:-3000} REF_BACKUPS=${BENCH_API_REF_BACKUPS:-10000}
CONC=${BENCH_API_CONCURRENCY:-200} DUR=${BENCH_API_DURATION:-10s} PORT=${BENCH_API_PORT:-9092}
ROUNDS=${BENCH_API_ROUNDS:-3}
need_cmd mysql curl
load_testenv
PYPORT=${FREEZER_API_PORT_PY:-9091}
TESTENV_RUN=${FREEZER_TESTENV_ROOT:-/var/tmp/freezer-testenv}/run

W=$WORK/api
mkdir -p "$W"
DB=fzapi_bench_$$
MYSQL=(mysql -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER")
[[ -n ${MYSQL_PASSWORD:-} ]] && MYSQL+=(-p"$MYSQL_PASSWORD")
PID='' NOCACHE_PID='' STARTED_PY=''
cleanup() {
  # Only what this script started, by pid / by its own testenv component.
  if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null || true
  fi
  if [[ -n $NOCACHE_PID ]] && kill -0 "$NOCACHE_PID" 2>/dev/null; then
    kill -TERM "$NOCACHE_PID"
    wait "$NOCACHE_PID" 2>/dev/null || true
  fi
  if [[ -n $STARTED_PY ]]; then bash "$ROOT/tools/testenv/down.sh" freezer-api-py >&2 || true; fi
  "${MYSQL[@]}" -e "DROP DATABASE IF EXISTS $DB" || true
}
trap cleanup EXIT

http_up() { curl -fsS -o /dev/null --max-time 2 "$1/healthcheck" 2>/dev/null; }
# PORT + 1: ours with the job read cache off, at the end.
NOCACHE_PORT=$((PORT + 1))
for p in "$PORT" "$NOCACHE_PORT"; do
  if http_up "http://127.0.0.1:$p" || (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "port $p is taken (BENCH_API_PORT and the one after it are used); set BENCH_API_PORT"
  fi
done

# Ours: a fresh database, schema by freezer-manage, Keystone auth.
"${MYSQL[@]}" -e "CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
url_pw=${MYSQL_PASSWORD:+:$MYSQL_PASSWORD}
cat >"$W/freezer-api.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $PORT
log_file = $W/freezer-api.log
[database]
connection = mysql+pymysql://$MYSQL_USER$url_pw@$MYSQL_HOST:$MYSQL_PORT/$DB?charset=utf8
max_pool_size = 50
max_overflow = 50
[keystone_authtoken]
auth_url = $OS_AUTH_URL
username = $FREEZER_SVC_USERNAME
password = $FREEZER_SVC_PASSWORD
project_name = $FREEZER_SVC_PROJECT_NAME
CONF
"$BUILD/freezer-manage" --config-file "$W/freezer-api.conf" db sync >"$LOGDIR/db-sync.log" 2>&1 ||
  die "freezer-manage db sync failed: $(tail -n 5 "$LOGDIR/db-sync.log")"
"$BUILD/freezer-api" --config-file "$W/freezer-api.conf" >"$LOGDIR/freezer-api.out" 2>&1 &
PID=$!
for _ in $(seq 100); do
  http_up "http://127.0.0.1:$PORT" && break
  kill -0 "$PID" 2>/dev/null || die "our freezer-api exited: $(tail -n 5 "$LOGDIR/freezer-api.out")"
  sleep 0.2
done
http_up "http://127.0.0.1:$PORT" || die "our freezer-api does not answer on :$PORT"

# Upstream: start it unless it already runs (then it is left running).
if ! http_up "http://127.0.0.1:$PYPORT"; then
  STARTED_PY=1
  bash "$ROOT/tools/testenv/up.sh" freezer-api-py >&2 || die "tools/testenv/up.sh freezer-api-py failed"
fi
# Rows of earlier bench runs (ours are in a fresh database): remove them so
# upstream holds exactly what this run seeds. Only bench-made rows.
"${MYSQL[@]}" freezer_py -e "
  DELETE FROM jobs WHERE description LIKE 'bench job %';
  DELETE FROM backups WHERE backup_metadata LIKE '%client_version%bench%';
  DELETE FROM clients WHERE client_id LIKE '%\\_bench-node-%';" ||
  die "cannot clear earlier bench rows in freezer_py"

export OS_AUTH_URL OS_USERNAME="$DEMO_OS_USERNAME" OS_PASSWORD="$DEMO_OS_PASSWORD" \
  OS_PROJECT_NAME="$DEMO_OS_PROJECT_NAME" OS_PROJECT_ID="$DEMO_OS_PROJECT_ID" \
  OS_USER_DOMAIN_NAME="$DEMO_OS_USER_DOMAIN_NAME" OS_PROJECT_DOMAIN_NAME="$DEMO_OS_PROJECT_DOMAIN_NAME"
echo "api: seeding and measuring (ours $JOBS jobs/$BACKUPS backups, upstream $REF_JOBS/$REF_BACKUPS; $CONC workers, $DUR per scenario)" >&2
# CPU per request: our server, upstream's uwsgi master and its workers,
# MariaDB (when it runs here; the tool leaves out what it cannot read).
REF_PID=0 DB_PID=0
[[ -r $TESTENV_RUN/freezer-api-py.pid ]] && REF_PID=$(cat "$TESTENV_RUN/freezer-api-py.pid")
DB_PID=$(pgrep -xo mariadbd || pgrep -xo mysqld || echo 0)
"$BUILD/freezer-api-bench" --url "http://127.0.0.1:$PORT" --ref-url "http://127.0.0.1:$PYPORT" \
  --jobs "$JOBS" --backups "$BACKUPS" --ref-jobs "$REF_JOBS" --ref-backups "$REF_BACKUPS" \
  --concurrency "$CONC" --duration "$DUR" --rounds "$ROUNDS" --pid "$PID" --ref-pid "$REF_PID" --db-pid "$DB_PID" >"$LOGDIR/api-bench.out" 2>"$LOGDIR/api-bench.err" ||
  die "freezer-api-bench failed: $(tail -n 5 "$LOGDIR/api-bench.err")"
cat "$LOGDIR/api-bench.out" >&2

# Latency at the target load: ours alone, open loop, offered 20x (list,
# get) and 100x (poll) upstream's closed-loop rate from the run above, by
# the same number of clients. A closed loop at saturation only measures
# queueing (mean latency = clients / rate); this says whether ours serves
# the target load within the p99 target.
rates=$(awk '
  !/^#/ && length($0) > 40 && substr($0, 18, 9) == "reference" {
    sc = substr($0, 1, 16); sub(/ +$/, "", sc); split(substr($0, 28), f, " ")
    m = (sc == "scheduler poll") ? 100 : ((sc == "job list" || sc == "job get") ? 20 : 0)
    if (m && f[1] > 0) { printf "%s%s=%.0f", sep, sc, f[1] * m; sep = "," }
  }' "$LOGDIR/api-bench.out")
if [[ -n $rates ]]; then
  echo "api: open loop at the target rates ($rates)" >&2
  "$BUILD/freezer-api-bench" --url "http://127.0.0.1:$PORT" --skip-seed --concurrency "$CONC" --duration "$DUR" \
    --rate "$rates" >"$LOGDIR/api-open.out" 2>"$LOGDIR/api-open.err" ||
    die "freezer-api-bench (open loop) failed: $(tail -n 5 "$LOGDIR/api-open.err")"
  cat "$LOGDIR/api-open.out" >&2
fi

# Ours with the job read cache off ([api] job_cache_size = 0), same
# database, one round: what a read costs when it is not served from the
# cache (e.g. the first read after a write), so the table above can be
# judged with and without it.
# Our first instance is stopped first: two pools of 100 connections and
# upstream's exceed MariaDB's default max_connections (151).
our_rss=$(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$PID/status")
kill -TERM "$PID"
wait "$PID" 2>/dev/null || true
PID=''
sed "s/^bind_port = .*/bind_port = $NOCACHE_PORT/; s|^log_file = .*|log_file = $W/freezer-api-nocache.log|" \
  "$W/freezer-api.conf" >"$W/freezer-api-nocache.conf"
printf '[api]\njob_cache_size = 0\n' >>"$W/freezer-api-nocache.conf"
"$BUILD/freezer-api" --config-file "$W/freezer-api-nocache.conf" >"$LOGDIR/freezer-api-nocache.out" 2>&1 &
NOCACHE_PID=$!
for _ in $(seq 100); do
  http_up "http://127.0.0.1:$NOCACHE_PORT" && break
  kill -0 "$NOCACHE_PID" 2>/dev/null || die "our freezer-api (cache off) exited: $(tail -n 5 "$LOGDIR/freezer-api-nocache.out")"
  sleep 0.2
done
echo "api: ours with [api] job_cache_size = 0" >&2
"$BUILD/freezer-api-bench" --url "http://127.0.0.1:$NOCACHE_PORT" --skip-seed --concurrency "$CONC" --duration "$DUR" \
  --scenarios "job list,job get,scheduler poll" --pid "$NOCACHE_PID" --db-pid "$DB_PID" \
  >"$LOGDIR/api-nocache.out" 2>"$LOGDIR/api-nocache.err" ||
  die "freezer-api-bench (cache off) failed: $(tail -n 5 "$LOGDIR/api-nocache.err")"
kill -TERM "$NOCACHE_PID"
wait "$NOCACHE_PID" 2>/dev/null || true
cat "$LOGDIR/api-nocache.out" >&2

# Peak RSS of upstream: the largest uwsgi process (master or worker).
py_rss=NA
if [[ -r $TESTENV_RUN/freezer-api-py.pid ]]; then
  master=$(cat "$TESTENV_RUN/freezer-api-py.pid")
  py_rss=0
  for p in "$master" $(awk -v m="$master" '$4 == m { print $1 }' /proc/[0-9]*/stat 2>/dev/null); do
    v=$(awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$p/status" 2>/dev/null || echo 0)
    ((${v:-0} > py_rss)) && py_rss=$v
  done
fi

{
  echo "== API, MariaDB, Keystone tokens, demo project =="
  echo "method: freezer-api-bench, closed loop, $CONC workers, $DUR per scenario, $ROUNDS rounds per scenario and server, ours and"
  echo "  upstream taking turns to go first; the table row is each server's median round (every round is listed above it);"
  echo "  ours: $JOBS jobs / $BACKUPS backups in a fresh database; upstream (python3-freezer-api 13, uwsgi 2 workers):"
  echo "  $REF_JOBS jobs / $REF_BACKUPS backups (fewer rows favour upstream). A request counts only if its status is right;"
  echo "  each scenario starts when both servers answer quickly again (upstream works off timed-out requests)"
  echo "  and the machine is idle (MariaDB flushes after seeding)."
  grep -v '^#   first error' "$LOGDIR/api-bench.out" | grep -v '^# ours Vm'
  grep '^#   first error' "$LOGDIR/api-bench.out" | sed 's/^#/  /' | cut -c1-200 || true
  # Columns: scenario (16), target (10), req/s, p50, p99, errors[, ratio].
  awk '
    function ms(s) { if (s ~ /µs$/) return s / 1000; if (s ~ /ms$/) return s + 0; if (s ~ /s$/) return s * 1000; return s }
    !/^#/ && length($0) > 40 && substr($0, 18, 10) ~ /^(ours|reference)/ {
      sc = substr($0, 1, 16); sub(/ +$/, "", sc); n = split(substr($0, 28), f, " ")
      if (substr($0, 18, 4) == "ours") { ours[sc] = f[1]; p99[sc] = f[3]; err[sc] = f[4]; order[k++] = sc }
      else { ref[sc] = f[1]; referr[sc] = f[4] }
    }
    END {
      print "ratios and targets:"
      for (i = 0; i < k; i++) {
        sc = order[i]; r = (ref[sc] > 0) ? ours[sc] / ref[sc] : 0
        t = (sc == "scheduler poll") ? 100 : ((sc == "job list" || sc == "job get") ? 20 : 0)
        v = t ? ((r >= t) ? "met" : "NOT met") : "no target"
        printf "  %-16s ours/upstream req/s %8.1fx (%s: %s); ours p99 %s (target < 20ms: %s); errors ours %s, upstream %s\n",
          sc, r, t ? "target >= " t "x" : "target", v, p99[sc], (ms(p99[sc]) < 20) ? "met" : "NOT met", err[sc], referr[sc]
      }
    }' "$LOGDIR/api-bench.out"
  echo "  note: with $CONC closed-loop workers the mean latency is $CONC / (req/s) (Little's law), and the load generator"
  echo "  shares the machine's $(nproc) cores with the server: p99 < 20 ms at $CONC workers needs > $((CONC * 50)) req/s."
  echo "  '# CPU per answered request' lines: server = the API's processes (uwsgi's master and workers upstream),"
  echo "  database = MariaDB, machine = all busy CPU time over the answered requests (load generator and kernel included)."
  if [[ -s $LOGDIR/api-open.out ]]; then
    echo "latency at the target load (ours alone, open loop: $CONC clients offered 20x upstream's rate above for list"
    echo "  and get, 100x for the poll; latency counted from each request's scheduled time):"
    grep -E '^(scenario|job |scheduler |backup )' "$LOGDIR/api-open.out" | sed 's/^/  /'
    # Misses (a read not cached, changed, or older than the cache's one
    # minute) cost a full read: the p99 depends on how many there were.
    grep -E '^#   .*: job cache ' "$LOGDIR/api-open.out" | sed 's/^#   /  /' || true
    awk '
      function ms(s) { if (s ~ /µs$/) return s / 1000; if (s ~ /ms$/) return s + 0; if (s ~ /s$/) return s * 1000; return s }
      !/^#/ && length($0) > 40 && substr($0, 18, 4) == "ours" {
        sc = substr($0, 1, 16); sub(/ +$/, "", sc); split(substr($0, 28), f, " ")
        printf "  %-16s p99 %s at %s req/s (target < 20ms: %s)\n", sc, f[3], f[1], (ms(f[3]) < 20) ? "met" : "NOT met"
      }' "$LOGDIR/api-open.out"
  fi
  echo "ours with the job read cache off ([api] job_cache_size = 0; same database, one round), against upstream's row above:"
  awk '
    FNR == NR { if (!/^#/ && length($0) > 40 && substr($0, 18, 9) == "reference") { sc = substr($0, 1, 16); sub(/ +$/, "", sc); split(substr($0, 28), f, " "); ref[sc] = f[1] } ; next }
    /^#   CPU/ { cpu = $0; sub(/^#   /, "", cpu) }
    !/^#/ && length($0) > 40 && substr($0, 18, 4) == "ours" {
      sc = substr($0, 1, 16); sub(/ +$/, "", sc); split(substr($0, 28), f, " ")
      printf "  %-16s %s req/s, p50 %s, p99 %s, errors %s: %.1fx upstream (%s)\n", sc, f[1], f[2], f[3], f[4], (ref[sc] > 0) ? f[1] / ref[sc] : 0, cpu
    }' "$LOGDIR/api-bench.out" "$LOGDIR/api-nocache.out"
  printf '  peak RSS: ours %s MiB (target < 150 MiB: %s); upstream largest uwsgi process %s MiB\n' \
    "$our_rss" "$(verdict "$our_rss" '<=' 150)" "$py_rss"
}
# Our API must answer every request: errors on ours fail the section.
awk '!/^#/ && substr($0, 18, 4) == "ours" { n = split($0, f, " "); for (i = 1; i <= n; i++) if (f[i] ~ /^[0-9]+$/) e = f[i]; if (e + 0 > 0) bad = 1 } END { exit bad }' \
  "$LOGDIR/api-bench.out" "$LOGDIR/api-nocache.out" || die "our API returned errors (see above); figures not valid"
