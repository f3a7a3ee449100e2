#!/usr/bin/env bash
#
# run.sh: runs the devstack plugin's phases (stack install, post-config,
# extra; then unstack and clean) against the real test environment
# (tools/testenv: Keystone, MariaDB), with only devstack's helper functions
# supplied by tests/shim.sh, and checks the result:
#
#   - freezer-api answers, its database was migrated by freezer-manage,
#   - the catalog has the backup service with the plugin's endpoints,
#   - `freezer job-list` (python-freezerclient, found through the catalog)
#     works against the API the plugin started, a job can be created and is
#     listed,
#   - freezer-scheduler registered its client with that API,
#   - unstack stops both with SIGTERM and leaves no process behind.
#
# One PASS/FAIL line per check; the exit status is the number of failures.
# Keystone objects the plugin creates live in a region of their own
# (FreezerDevstackTest) so the environment's RegionOne catalog, which other
# tests use, is never touched; that region's endpoints, the test database
# and the scratch directory are removed at the end.
#
# Usage: devstack/tests/run.sh   (after `make testenv-up`)
# Knobs: FREEZER_TESTENV_ROOT (default /var/tmp/freezer-testenv),
#        FREEZER_API_PORT (default: a free port), KEEP_WORK=1.
# shellcheck source-path=SCRIPTDIR/../..

set -uo pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$TESTS_DIR/../.." && pwd)
ENV_FILE=${FREEZER_TESTENV_ROOT:-/var/tmp/freezer-testenv}/testenv.env

# The environment's Debian OpenStack clients need the system python.
GO_DIR=$(dirname "$(command -v go 2>/dev/null || echo /usr/bin/go)")
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$GO_DIR
unset PYTHONPATH VIRTUAL_ENV
export PYTHONWARNINGS=ignore

FAILURES=0
pass() { echo "PASS: $*"; }
fail() {
    echo "FAIL: $*"
    FAILURES=$((FAILURES + 1))
}
# verdict STATUS PASS_MESSAGE FAIL_MESSAGE: pass when STATUS is 0.
verdict() {
    if [[ $1 -eq 0 ]]; then pass "$2"; else fail "$3"; fi
}

if [[ ! -r $ENV_FILE ]]; then
    echo "FAIL: test environment file $ENV_FILE missing (run make testenv-up)"
    exit 1
fi

# envget KEY: a value from testenv.env (KEY=VALUE lines, optional quotes).
envget() {
    local v
    v=$(sed -n "s/^\(export \)\{0,1\}$1=//p" "$ENV_FILE" | tail -n 1)
    v=${v%\"}
    v=${v#\"}
    v=${v%\'}
    v=${v#\'}
    printf '%s' "$v"
}
require() {
    local k v
    for k in "$@"; do
        v=$(envget "$k")
        if [[ -z $v && $k != MYSQL_PASSWORD ]]; then
            echo "FAIL: $k missing from $ENV_FILE"
            exit 1
        fi
    done
}
require OS_AUTH_URL ADMIN_OS_USERNAME ADMIN_OS_PASSWORD ADMIN_OS_PROJECT_NAME \
    DEMO_OS_USERNAME DEMO_OS_PASSWORD DEMO_OS_PROJECT_NAME \
    FREEZER_SVC_USERNAME FREEZER_SVC_PASSWORD FREEZER_SVC_PROJECT_NAME \
    MYSQL_HOST MYSQL_USER

free_port() {
    local p
    for p in $(seq 19090 19190); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

CURRENT_PHASE=""
WORK=$(mktemp -d /tmp/freezer-devstack-test.XXXXXX)
REGION=FreezerDevstackTest
DB_NAME=freezer_devstack_test

# --- what devstack's stackrc / local.conf would define ---------------------
export GIT_BASE=https://opendev.org
OS_AUTH_URL_V3=$(envget OS_AUTH_URL)
export DEST=$WORK/opt/stack
export STACK_USER
STACK_USER=$(id -un)
export SERVICE_HOST=127.0.0.1 SERVICE_LISTEN_ADDRESS=127.0.0.1 SERVICE_PROTOCOL=http
# devstack's KEYSTONE_SERVICE_URI has no version suffix (http://host/identity).
export KEYSTONE_SERVICE_URI=${OS_AUTH_URL_V3%/v3}
export SERVICE_PASSWORD
SERVICE_PASSWORD=$(envget FREEZER_SVC_PASSWORD)
export SERVICE_PROJECT_NAME
SERVICE_PROJECT_NAME=$(envget FREEZER_SVC_PROJECT_NAME)
export SERVICE_DOMAIN_NAME=Default REGION_NAME=$REGION SERVICE_TIMEOUT=60
export ADMIN_PASSWORD
ADMIN_PASSWORD=$(envget ADMIN_OS_PASSWORD)
export DATABASE_TYPE=mysql DATABASE_HOST MYSQL_HOST DATABASE_USER DATABASE_PASSWORD
DATABASE_HOST=$(envget MYSQL_HOST)
MYSQL_HOST=$DATABASE_HOST
DATABASE_USER=$(envget MYSQL_USER)
DATABASE_PASSWORD=$(envget MYSQL_PASSWORD)
export ENABLED_SERVICES=key,mysql
export SERVICE_DIR=$DEST/status LOGDIR=$DEST/logs

export SHIM_ADMIN_AUTH_URL=$OS_AUTH_URL_V3 SHIM_ADMIN_DOMAIN=Default
export SHIM_ADMIN_USERNAME SHIM_ADMIN_PASSWORD SHIM_ADMIN_PROJECT_NAME
SHIM_ADMIN_USERNAME=$(envget ADMIN_OS_USERNAME)
SHIM_ADMIN_PASSWORD=$ADMIN_PASSWORD
SHIM_ADMIN_PROJECT_NAME=$(envget ADMIN_OS_PROJECT_NAME)

# --- local.conf lines for the plugin ----------------------------------------
export FREEZER_DIR=$REPO_DIR
export FREEZER_BIN_DIR=$WORK/bin
export FREEZER_CONF_DIR=$WORK/etc/freezer
export FREEZER_LOG_DIR=$DEST/logs
export FREEZER_API_HOST=127.0.0.1 FREEZER_API_LISTEN_ADDRESS=127.0.0.1
export FREEZER_API_PORT=${FREEZER_API_PORT:-$(free_port)}
export FREEZER_API_DB_NAME=$DB_NAME
export FREEZER_SCHEDULER_USERNAME FREEZER_SCHEDULER_PASSWORD FREEZER_SCHEDULER_PROJECT_NAME
FREEZER_SCHEDULER_USERNAME=$(envget DEMO_OS_USERNAME)
FREEZER_SCHEDULER_PASSWORD=$(envget DEMO_OS_PASSWORD)
FREEZER_SCHEDULER_PROJECT_NAME=$(envget DEMO_OS_PROJECT_NAME)
export FREEZER_SCHEDULER_INTERVAL=5
export FREEZER_AGENT_STORAGE=local FREEZER_AGENT_CONTAINER=$WORK/backups
# python-freezerclient comes from Debian here (no network for git_clone).
export FREEZER_INSTALL_CLIENT=False

# shellcheck source=devstack/tests/shim.sh
source "$TESTS_DIR/shim.sh"

# demo: the openstack/freezer CLIs as the demo user, in the test region.
# python-freezerclient 5.0 looks the backup service up in the catalog
# without a region filter, so with two regions it could pick RegionOne's
# endpoint: it is given the plugin's endpoint explicitly. The catalog entry
# itself is checked with the openstack CLI, and the scheduler, which does
# filter by region, finds the API through it.
demo() {
    env -u OS_CLOUD -u OS_TOKEN \
        OS_BACKUP_URL="http://$FREEZER_API_HOST:$FREEZER_API_PORT" \
        OS_AUTH_URL="$OS_AUTH_URL_V3" OS_IDENTITY_API_VERSION=3 \
        OS_USERNAME="$FREEZER_SCHEDULER_USERNAME" OS_PASSWORD="$FREEZER_SCHEDULER_PASSWORD" \
        OS_PROJECT_NAME="$FREEZER_SCHEDULER_PROJECT_NAME" \
        OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
        OS_REGION_NAME="$REGION" OS_BACKUP_API_VERSION=2 "$@"
}

# region_endpoints: ids of every endpoint in the test region.
region_endpoints() {
    _shim_openstack endpoint list --region "$REGION" -f value -c ID 2>/dev/null
}

# session_pids: every live process in the sessions the plugin's services
# started (run_process gives each its own session) or running one of the
# binaries the plugin installed.
STARTED_PIDS=()
session_pids() {
    local d pid sid exe s
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        shim_alive "$pid" || continue
        sid=$(awk '{ sub(/^.*\) /, ""); print $4 }' "$d/stat" 2>/dev/null) || continue
        exe=$(readlink "$d/exe" 2>/dev/null) || exe=""
        for s in "${STARTED_PIDS[@]}"; do
            if [[ $sid == "$s" ]]; then
                echo "$pid"
                continue 2
            fi
        done
        if [[ -n $exe && $exe == "$FREEZER_BIN_DIR"/* ]]; then
            echo "$pid"
        fi
    done
}

show_logs() {
    local f
    for f in "$LOGDIR"/*.log; do
        [[ -r $f ]] || continue
        echo "---- last lines of $f"
        tail -n 30 "$f"
    done
}

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local rc=$? pid ids
    if [[ -n $CURRENT_PHASE ]]; then
        fail "plugin.sh $CURRENT_PHASE died (exit $rc)"
        show_logs
        echo "SUMMARY: $FAILURES failure(s)"
        rc=$FAILURES
    fi
    # Anything the plugin started and unstack left behind: by pid only.
    for pid in $(session_pids); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    ids=$(region_endpoints)
    if [[ -n $ids ]]; then
        # shellcheck disable=SC2086  # one id per word
        _shim_openstack endpoint delete $ids >/dev/null 2>&1 || true
    fi
    _shim_openstack region delete "$REGION" >/dev/null 2>&1 || true
    _shim_mysql -e "DROP DATABASE IF EXISTS \`$DB_NAME\`;" >/dev/null 2>&1 || true
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# Leftovers of an interrupted earlier run would make get_or_create_endpoint
# keep stale URLs, as devstack does; start from an empty region.
stale=$(region_endpoints)
if [[ -n $stale ]]; then
    # shellcheck disable=SC2086
    _shim_openstack endpoint delete $stale
fi
# devstack's keystone creates its region before any plugin runs.
_shim_openstack region create "$REGION" >/dev/null 2>&1 || true

mkdir -p "$DEST" "$LOGDIR"

# --- devstack: settings, then every phase sourced in one shell --------------
# shellcheck source=devstack/settings
source "$REPO_DIR/devstack/settings"

# phase MODE [PHASE]: source plugin.sh as stack.sh does, in this shell (the
# services stay children of it, so they are reaped). A `die` in the plugin
# exits this script, as it exits stack.sh; the EXIT trap reports it.
phase() {
    local t0=$SECONDS rc=0
    CURRENT_PHASE="$*"
    echo "== plugin.sh $*"
    # shellcheck source=devstack/plugin.sh
    source "$REPO_DIR/devstack/plugin.sh" "$@" || rc=$?
    CURRENT_PHASE=""
    if [[ $rc -eq 0 ]]; then
        pass "plugin.sh $* ($((SECONDS - t0))s)"
    else
        fail "plugin.sh $* returned $rc"
    fi
    return "$rc"
}

# The sessions run_process started, from the pid files it wrote.
collect_started() {
    local f
    STARTED_PIDS=()
    for f in "$SERVICE_DIR"/*.pid; do
        [[ -r $f ]] && STARTED_PIDS+=("$(<"$f")")
    done
}

stack_ok=1
phase source || stack_ok=0
if ((stack_ok)); then phase stack install || stack_ok=0; fi
if ((stack_ok)); then
    for b in freezer-agent freezer-scheduler freezer-api freezer-manage; do
        if [[ -x $FREEZER_BIN_DIR/$b ]]; then
            pass "install: $b installed in FREEZER_BIN_DIR"
        else
            fail "install: $b missing from $FREEZER_BIN_DIR"
            stack_ok=0
        fi
    done
fi
if ((stack_ok)); then phase stack post-config || stack_ok=0; fi
if ((stack_ok)); then
    api_conf=$FREEZER_CONF_DIR/freezer-api.conf
    [[ $(iniget "$api_conf" database connection) == "mysql+pymysql://"*"/$DB_NAME?charset=utf8" ]]
    verdict $? "configure: [database] connection is devstack's URL" \
        "configure: [database] connection is '$(iniget "$api_conf" database connection)'"
    [[ $(iniget "$api_conf" keystone_authtoken username) == "freezer" ]]
    verdict $? "configure: [keystone_authtoken] written" \
        "configure: [keystone_authtoken] username missing"
    [[ $(iniget "$FREEZER_CONF_DIR/scheduler.conf" service_auth os_username) == "$FREEZER_SCHEDULER_USERNAME" ]]
    verdict $? "configure: scheduler.conf [service_auth] written" \
        "configure: scheduler.conf [service_auth] username missing"
    [[ $(iniget "$FREEZER_CONF_DIR/freezer.conf" DEFAULT storage) == "local" ]]
    verdict $? "configure: agent defaults in freezer.conf" \
        "configure: freezer.conf [DEFAULT] storage missing"

    want="http://127.0.0.1:$FREEZER_API_PORT"
    got=$(_shim_openstack endpoint list --service backup --region "$REGION" -f value -c Interface -c URL | sort | tr '\n' ' ')
    if [[ $got == "admin $want internal $want public $want " ]]; then
        pass "accounts: backup service has admin/internal/public endpoints $want in $REGION"
    else
        fail "accounts: endpoints in $REGION are '$got', want the three interfaces at $want"
    fi
fi
if ((stack_ok)); then
    phase stack extra || stack_ok=0
    collect_started
fi

if ((stack_ok)); then
    tables=$(_shim_mysql -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$DB_NAME'")
    if [[ ${tables:-0} -ge 7 ]]; then
        pass "init: freezer-manage db sync created $tables tables in $DB_NAME"
    else
        fail "init: $DB_NAME has ${tables:-0} tables after db sync"
    fi

    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FREEZER_API_PORT/healthcheck")
    [[ $code == 200 ]]
    verdict $? "start: GET /healthcheck is 200" \
        "start: GET /healthcheck is $code"
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FREEZER_API_PORT/v2/x/jobs")
    [[ $code == 401 ]]
    verdict $? "start: unauthenticated /v2 request is 401" \
        "start: unauthenticated /v2 request is $code"

    if out=$(demo freezer job-list --limit 100000 2>&1); then
        pass "freezer job-list works against the plugin's freezer-api"
    else
        fail "freezer job-list: $out"
    fi
    jobfile=$WORK/job.json
    cat >"$jobfile" <<EOF
{"description": "devstack plugin test $$",
 "job_schedule": {"schedule_interval": "1 days"},
 "job_actions": [{"freezer_action": {"action": "backup", "mode": "fs",
   "path_to_backup": "$WORK/nothing", "backup_name": "devstack-test",
   "storage": "local", "container": "$WORK/backups"}}]}
EOF
    # A job names a registered client; this one is not the scheduler's, so
    # the scheduler leaves the job alone.
    clientfile=$WORK/client.json
    printf '{"client_id": "devstack-test-client-%s", "hostname": "devstack-test-%s"}\n' $$ $$ >"$clientfile"
    if ! out=$(demo freezer client-register --file "$clientfile" 2>&1); then
        fail "freezer client-register: $out"
    fi
    if out=$(demo freezer job-create --file "$jobfile" --client "devstack-test-client-$$" 2>&1) &&
        job_id=$(sed -n 's/^Job \([0-9a-f-]*\) created.*/\1/p' <<<"$out") && [[ -n $job_id ]]; then
        if demo freezer job-list --limit 100000 2>&1 | grep -F "$job_id" >/dev/null; then
            pass "freezer job-create then job-list shows job $job_id"
        else
            fail "job $job_id created but not in freezer job-list"
        fi
    else
        fail "freezer job-create: $out"
    fi

    # The scheduler registers its client when it starts.
    registered=0
    deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        if demo freezer client-list --limit 100000 2>/dev/null | grep -F "$(hostname)" >/dev/null; then
            registered=1
            break
        fi
        sleep 2
    done
    ((registered))
    verdict $? "freezer-scheduler registered its client ($(hostname))" \
        "freezer-scheduler did not register a client within 30s"
else
    show_logs
fi

# --- unstack: every process stops on SIGTERM, none is left ------------------
collect_started
phase unstack
for svc in freezer-api freezer-scheduler; do
    if [[ -e $SERVICE_DIR/$svc.killed ]]; then
        fail "unstack: $svc ignored SIGTERM and had to be killed"
    elif [[ -e $SERVICE_DIR/$svc.pid ]]; then
        fail "unstack: $svc pid file left behind"
    fi
done
left=$(session_pids | tr '\n' ' ')
if [[ -z $left ]]; then
    pass "unstack: no freezer process left"
else
    fail "unstack: processes left: $left"
    # shellcheck disable=SC2086
    ps -o pid,sid,stat,args -p ${left// /,} || true
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$FREEZER_API_PORT") 2>/dev/null; then
    fail "unstack: port $FREEZER_API_PORT still accepts connections"
else
    pass "unstack: port $FREEZER_API_PORT closed"
fi

phase clean
if [[ ! -e $FREEZER_BIN_DIR/freezer-api && ! -e $FREEZER_CONF_DIR/freezer-api.conf ]]; then
    pass "clean: binaries and configuration removed"
else
    fail "clean: files left in $FREEZER_BIN_DIR or $FREEZER_CONF_DIR"
fi

((FAILURES)) && show_logs
echo "SUMMARY: $FAILURES failure(s)"
exit "$FAILURES"
