#!/usr/bin/env bash
# Section "cli" of `make bench`: the `freezer` command-line client, ours
# vs Debian's python-freezerclient (/usr/bin/freezer), on the same
# freezer-api (ours, SQLite, behind the test environment's Keystone) with
# the same BENCH_CLI_JOBS jobs: wall time and peak RSS of `job-list` (a
# Keystone login, one list request, a table), and of `--version` alone
# (start-up, no network). Called by run.sh.
#
# Knobs: BENCH_CLI_JOBS=50, BENCH_CLI_REPS=7 (runs per client, taking
#   turns; the row is the median wall and the largest RSS),
#   BENCH_CLI_PORT=9094.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

JOBS=${BENCH_CLI_JOBS:-50} REPS=${BENCH_CLI_REPS:-7} PORT=${BENCH_CLI_PORT:-9094}
PYCLI=/usr/bin/freezer
[[ -x $PYCLI ]] || die "$PYCLI missing (apt-get install python3-freezerclient)"
[[ -x $BUILD/freezer ]] || die "$BUILD/freezer missing: run make build"
need_cmd curl
load_testenv
demo_os_env

W=$WORK/cli
mkdir -p "$W"
PID=''
cleanup() {
  if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT is taken; set BENCH_CLI_PORT"
fi
cat >"$W/api.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $PORT
[database]
connection = sqlite:///$W/api.db
[keystone_authtoken]
auth_url = $OS_AUTH_URL
www_authenticate_uri = $OS_AUTH_URL
auth_type = password
username = $FREEZER_SVC_USERNAME
password = $FREEZER_SVC_PASSWORD
project_name = $FREEZER_SVC_PROJECT_NAME
user_domain_name = Default
project_domain_name = Default
CONF
"$BUILD/freezer-api" --config-file "$W/api.conf" >"$LOGDIR/freezer-api.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/healthcheck" 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthcheck" || die "freezer-api did not start: $(tail -n 5 "$LOGDIR/freezer-api.log")"
export OS_BACKUP_URL=http://127.0.0.1:$PORT PYTHONWARNINGS=ignore

client=${DEMO_OS_PROJECT_ID}_benchhost
echo "{\"client_id\": \"$client\", \"hostname\": \"benchhost\"}" >"$W/client.json"
"$BUILD/freezer" -q client-register --file "$W/client.json"
for i in $(seq "$JOBS"); do
  "$BUILD/freezer" -q job-create --client "$client" --action backup --mode fs \
    --path-to-backup /etc --backup-name "etc$i" --container bench --storage swift \
    --schedule-interval "1 days" --description "bench job $i"
done
n=$("$BUILD/freezer" job-list -f value -c "Job ID" | wc -l)
((n == JOBS)) || die "job-list shows $n jobs, want $JOBS"
# Both clients print the same table (the compatibility test checks it
# byte for byte; here a line count keeps a broken run from being timed).
[[ $("$PYCLI" job-list | wc -l) == $("$BUILD/freezer" job-list | wc -l) ]] || die "the clients' job-list tables differ"

for r in $(seq "$REPS"); do
  if ((r % 2)); then order="go py"; else order="py go"; fi
  for who in $order; do
    if [[ $who == go ]]; then b=$BUILD/freezer; else b=$PYCLI; fi
    measure "joblist-$who#$r" "$b" job-list
    measure "version-$who#$r" "$b" --version
  done
done

row() {
  local what=$1 go py
  go=$(median_of "$what-go" 2) py=$(median_of "$what-py" 2)
  printf '%-22s %9s %9s %8s %9s %9s %8s\n' "$what" "$go" "$py" "$(ratio "$py" "$go" 1)x" \
    "$(max_rss_mib "$what-go")" "$(max_rss_mib "$what-py")" "$(ratio "$(max_rss_mib "$what-py")" "$(max_rss_mib "$what-go")" 1)x"
}
echo "== cli: freezer client, ours vs python-freezerclient 5.0 ($JOBS jobs, median of $REPS runs) =="
printf '%-22s %9s %9s %8s %9s %9s %8s\n' "command" "ours s" "python s" "speedup" "ours MiB" "py MiB" "RSS /"
row joblist
row version
echo "runs (s): ours $(runs_of joblist-go); python $(runs_of joblist-py)"
