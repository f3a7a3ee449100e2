#!/usr/bin/env bash
# Benchmarks our freezer-api against the upstream Python freezer-api (for
# `make bench`): both on the test environment's MariaDB behind its
# Keystone, measured in the same run by freezer-api-bench, which prints
# requests/s, p50, p99 and the ratio ours/upstream per scenario.
#
# Needs `make testenv-up` and `make build`. Knobs (environment):
#   BENCH_JOBS=10000 BENCH_BACKUPS=100000       data seeded into ours
#   BENCH_REF_JOBS=3000 BENCH_REF_BACKUPS=10000 data seeded into upstream
#       (upstream creates ~50 backups/s: 100k would take most of an hour)
#   BENCH_CONCURRENCY=200 BENCH_DURATION=20s BENCH_PORT=9092
#   BENCH_NO_REF=1                              measure ours only
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${FREEZER_BUILD_DIR:-$ROOT/build}
ENVF=${FREEZER_TESTENV_ROOT:-/var/tmp/freezer-testenv}/testenv.env
[[ -r $ENVF ]] || { echo "run.sh: $ENVF missing: run make testenv-up" >&2; exit 1; }
while IFS='=' read -r k v; do
  [[ $k =~ ^[A-Z_][A-Z0-9_]*$ ]] && export "$k=$v"
done < <(grep -E '^[A-Z_][A-Z0-9_]*=' "$ENVF")
for b in freezer-api freezer-manage freezer-api-bench; do
  [[ -x $BUILD/$b ]] || { echo "run.sh: $BUILD/$b missing: run make build" >&2; exit 1; }
done

JOBS=${BENCH_JOBS:-10000} BACKUPS=${BENCH_BACKUPS:-100000}
REF_JOBS=${BENCH_REF_JOBS:-3000} REF_BACKUPS=${BENCH_REF_BACKUPS:-10000}
CONC=${BENCH_CONCURRENCY:-200} DUR=${BENCH_DURATION:-20s} PORT=${BENCH_PORT:-9092}
DB=fzapi_bench_$$
WORK=$(mktemp -d)
MYSQL=(mysql -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER")
[[ -n ${MYSQL_PASSWORD:-} ]] && MYSQL+=(-p"$MYSQL_PASSWORD")
PID=
cleanup() {
  # Only the process this script started, by its pid.
  if [[ -n $PID ]] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  "${MYSQL[@]}" -e "DROP DATABASE IF EXISTS $DB" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${MYSQL[@]}" -e "CREATE DATABASE $DB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
url_pw=${MYSQL_PASSWORD:+:$MYSQL_PASSWORD}
cat > "$WORK/freezer-api.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $PORT
log_file = $WORK/freezer-api.log
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
"$BUILD/freezer-manage" --config-file "$WORK/freezer-api.conf" db sync
"$BUILD/freezer-api" --config-file "$WORK/freezer-api.conf" &
PID=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthcheck" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/healthcheck" >/dev/null

REF=()
if [[ -z ${BENCH_NO_REF:-} ]]; then
  bash "$ROOT/tools/testenv/up.sh" freezer-api-py >&2
  REF=(--ref-url "http://127.0.0.1:${FREEZER_API_PORT_PY:-9091}" --ref-jobs "$REF_JOBS" --ref-backups "$REF_BACKUPS")
fi

export OS_AUTH_URL OS_USERNAME="$DEMO_OS_USERNAME" OS_PASSWORD="$DEMO_OS_PASSWORD" \
  OS_PROJECT_NAME="$DEMO_OS_PROJECT_NAME" OS_PROJECT_ID="$DEMO_OS_PROJECT_ID" \
  OS_USER_DOMAIN_NAME="$DEMO_OS_USER_DOMAIN_NAME" OS_PROJECT_DOMAIN_NAME="$DEMO_OS_PROJECT_DOMAIN_NAME"
"$BUILD/freezer-api-bench" --url "http://127.0.0.1:$PORT" "${REF[@]}" \
  --jobs "$JOBS" --backups "$BACKUPS" --concurrency "$CONC" --duration "$DUR" --pid "$PID"
