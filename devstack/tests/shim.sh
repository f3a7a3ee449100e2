# shellcheck shell=bash
#
# shim.sh: the few devstack helper functions that devstack/plugin.sh and
# devstack/lib/freezer call, so that the plugin's phases can run without a
# whole devstack. Each one does what devstack's function of the same name
# does, against the real services of the test environment: Keystone through
# the openstack CLI with the admin credentials, MariaDB through the mysql
# client. Only process supervision differs: devstack writes a systemd unit
# (KillMode=process), this shim starts the command in its own session and
# records its pid, and stop_process sends SIGTERM to that pid only, like
# systemd does with KillMode=process.
#
# Needs: DEST, ENABLED_SERVICES, SERVICE_DIR, LOGDIR, SHIM_ADMIN_* (admin
# credentials: AUTH_URL USERNAME PASSWORD PROJECT_NAME DOMAIN), DATABASE_*
# and MYSQL_HOST.

# The test runs as root on a machine without sudo; devstack runs as the
# stack user with sudo. Where sudo is missing and we are root, it is a no-op.
if ! command -v sudo >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    function sudo {
        "$@"
    }
fi

function echo_summary {
    echo "== $*"
}

function warn {
    local line=$1
    shift
    echo "WARNING (line $line): $*" >&2
}

# die LINENO message: devstack prints and exits the whole stack.sh.
function die {
    local line=$1
    shift
    echo "ERROR (line $line): $*" >&2
    exit 1
}

function is_service_enabled {
    local service
    for service in "$@"; do
        [[ ,${ENABLED_SERVICES}, =~ ,${service}, ]] && return 0
        if type "is_${service}_enabled" >/dev/null 2>&1; then
            "is_${service}_enabled" && return 0
        fi
    done
    return 1
}

# trueorfalse DEFAULT VARNAME: devstack's boolean normalisation.
function trueorfalse {
    local default=$1 value
    value=${!2:-$default}
    case ${value,,} in
        1 | yes | true | on) echo True ;;
        0 | no | false | off) echo False ;;
        *) echo "$default" ;;
    esac
}

function enable_service {
    local service
    for service in "$@"; do
        if [[ ! ,${ENABLED_SERVICES}, =~ ,${service}, ]]; then
            ENABLED_SERVICES=${ENABLED_SERVICES:+$ENABLED_SERVICES,}$service
        fi
    done
}

function disable_service {
    local service list=""
    local -a kept=()
    IFS=, read -r -a kept <<<"$ENABLED_SERVICES"
    for service in "${kept[@]}"; do
        if [[ " $* " != *" $service "* ]]; then
            list=${list:+$list,}$service
        fi
    done
    ENABLED_SERVICES=$list
}

# iniset [-sudo] FILE SECTION OPTION VALUE: set OPTION in [SECTION],
# replacing an existing value, adding the section when missing, creating the
# file when missing. Values are passed through the environment so that awk
# never interprets backslashes in them.
function iniset {
    if [[ $1 == "-sudo" ]]; then
        shift
    fi
    local file=$1 section=$2 option=$3 value=$4
    if [[ -z $file || -z $section || -z $option ]]; then
        echo "iniset: file, section and option are required" >&2
        return 1
    fi
    [[ -e $file ]] || : >"$file"
    local tmp
    tmp=$(mktemp "$file.XXXXXX")
    # Blank lines are held back so that a new option lands right after the
    # last option of its section, not after the blank line before the next.
    INI_SECTION=$section INI_OPTION=$option INI_VALUE=$value awk '
        function emit() { print ENVIRON["INI_OPTION"] " = " ENVIRON["INI_VALUE"]; done = 1 }
        function flush() { printf "%s", blanks; blanks = "" }
        /^[ \t]*$/ { blanks = blanks $0 "\n"; next }
        /^[ \t]*\[.*\][ \t]*$/ {
            if (in_section && !done) emit()
            flush()
            name = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", name)
            in_section = (name == ENVIRON["INI_SECTION"])
            if (in_section) seen = 1
            print; next
        }
        { flush() }
        in_section && !done && /=/ {
            key = substr($0, 1, index($0, "=") - 1); gsub(/^[ \t]+|[ \t]+$/, "", key)
            if (key == ENVIRON["INI_OPTION"]) { emit(); next }
        }
        { print }
        END {
            if (!done && in_section) emit()
            flush()
            if (!done) {
                if (!seen) { if (NR > 0) print ""; print "[" ENVIRON["INI_SECTION"] "]" }
                emit()
            }
        }' "$file" >"$tmp" && mv "$tmp" "$file"
}

# iniget FILE SECTION OPTION: print the value, nothing when unset.
function iniget {
    local file=$1 section=$2 option=$3
    [[ -r $file ]] || return 0
    INI_SECTION=$section INI_OPTION=$option awk '
        /^[ \t]*\[.*\][ \t]*$/ {
            name = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", name)
            in_section = (name == ENVIRON["INI_SECTION"]); next
        }
        in_section && /=/ {
            key = substr($0, 1, index($0, "=") - 1); gsub(/^[ \t]+|[ \t]+$/, "", key)
            if (key == ENVIRON["INI_OPTION"]) {
                v = substr($0, index($0, "=") + 1); gsub(/^[ \t]+|[ \t]+$/, "", v)
                print v; exit
            }
        }' "$file"
}

# --- database (devstack lib/database, lib/databases/mysql) -----------------

function database_connection_url {
    echo "mysql+pymysql://$DATABASE_USER:$DATABASE_PASSWORD@$DATABASE_HOST/$1?charset=utf8"
}

function _shim_mysql {
    mysql -u"$DATABASE_USER" ${DATABASE_PASSWORD:+-p"$DATABASE_PASSWORD"} -h"$MYSQL_HOST" "$@"
}

function recreate_database {
    local db=$1
    _shim_mysql -e "DROP DATABASE IF EXISTS \`$db\`;" || return 1
    _shim_mysql -e "CREATE DATABASE \`$db\` CHARACTER SET utf8;"
}

# --- keystone (devstack functions-common, lib/keystone) ---------------------

# _shim_openstack: the openstack CLI as the cloud admin (devstack's
# --os-cloud devstack-system-admin). The caller's OS_* never leak in.
function _shim_openstack {
    env -u OS_CLOUD -u OS_TOKEN -u OS_PROJECT_ID -u OS_USER_ID \
        OS_AUTH_URL="$SHIM_ADMIN_AUTH_URL" OS_IDENTITY_API_VERSION=3 \
        OS_USERNAME="$SHIM_ADMIN_USERNAME" OS_PASSWORD="$SHIM_ADMIN_PASSWORD" \
        OS_PROJECT_NAME="$SHIM_ADMIN_PROJECT_NAME" \
        OS_USER_DOMAIN_NAME="$SHIM_ADMIN_DOMAIN" OS_PROJECT_DOMAIN_NAME="$SHIM_ADMIN_DOMAIN" \
        OS_REGION_NAME="${SHIM_ADMIN_REGION:-RegionOne}" \
        PYTHONWARNINGS=ignore openstack "$@"
}

function configure_keystoneauth {
    local conf_file=$1 admin_user=$2 section=$3
    iniset "$conf_file" "$section" auth_type password
    iniset "$conf_file" "$section" interface public
    iniset "$conf_file" "$section" auth_url "$KEYSTONE_SERVICE_URI"
    iniset "$conf_file" "$section" username "$admin_user"
    iniset "$conf_file" "$section" password "$SERVICE_PASSWORD"
    iniset "$conf_file" "$section" user_domain_name "$SERVICE_DOMAIN_NAME"
    iniset "$conf_file" "$section" project_name "$SERVICE_PROJECT_NAME"
    iniset "$conf_file" "$section" project_domain_name "$SERVICE_DOMAIN_NAME"
}

function configure_keystone_authtoken_middleware {
    local conf_file=$1 admin_user=$2 section=${3:-keystone_authtoken} service_type=${4:-}
    configure_keystoneauth "$conf_file" "$admin_user" "$section"
    iniset "$conf_file" "$section" www_authenticate_uri "$KEYSTONE_SERVICE_URI"
    iniset "$conf_file" "$section" cafile "${SSL_BUNDLE_FILE:-}"
    iniset "$conf_file" "$section" memcached_servers "${MEMCACHE_SERVERS:-}"
    if [[ -n $service_type ]]; then
        iniset "$conf_file" "$section" service_type "$service_type"
    fi
}

# get_or_create_user NAME PASSWORD DOMAIN [EMAIL]
function get_or_create_user {
    local -a email=()
    [[ -n ${4:-} ]] && email=(--email "$4")
    _shim_openstack user create "$1" --password "$2" --domain "$3" "${email[@]}" \
        --or-show -f value -c id
}

# get_or_create_project NAME DOMAIN
function get_or_create_project {
    _shim_openstack project create "$1" --domain "$2" --or-show -f value -c id
}

function get_or_create_role {
    _shim_openstack role create "$1" --or-show -f value -c id
}

# get_or_add_user_project_role ROLE USER PROJECT [USER_DOMAIN PROJECT_DOMAIN]
function get_or_add_user_project_role {
    local -a domain=()
    [[ -n ${4:-} ]] && domain+=(--user-domain "$4")
    [[ -n ${5:-} ]] && domain+=(--project-domain "$5")
    _shim_openstack role add "$1" --user "$2" --project "$3" "${domain[@]}" || return 1
    _shim_openstack role assignment list --role "$1" --user "$2" --project "$3" \
        "${domain[@]}" -c Role -f value
}

# get_or_create_service NAME TYPE DESCRIPTION: an existing service of that
# type is reused, as in devstack.
function get_or_create_service {
    _shim_openstack service show "$2" -f value -c id 2>/dev/null ||
        _shim_openstack service create "$2" --name "$1" --description "$3" -f value -c id
}

function _get_or_create_endpoint_with_interface {
    local id
    id=$(_shim_openstack endpoint list --service "$1" --interface "$2" --region "$4" -c ID -f value)
    if [[ -z $id ]]; then
        id=$(_shim_openstack endpoint create "$1" "$2" "$3" --region "$4" -f value -c id)
    fi
    echo "$id"
}

# get_or_create_endpoint SERVICE REGION PUBLIC [ADMIN] [INTERNAL]
function get_or_create_endpoint {
    local public_id
    public_id=$(_get_or_create_endpoint_with_interface "$1" public "$3" "$2") || return 1
    if [[ -n ${4:-} ]]; then
        _get_or_create_endpoint_with_interface "$1" admin "$4" "$2" >/dev/null || return 1
    fi
    if [[ -n ${5:-} ]]; then
        _get_or_create_endpoint_with_interface "$1" internal "$5" "$2" >/dev/null || return 1
    fi
    echo "$public_id"
}

# --- processes (devstack functions-common) ---------------------------------

# run_process SERVICE COMMAND [GROUP] [USER] [ENV_VARS]: like devstack's
# systemd unit, the command is split on blanks (no shell), runs with the
# given environment, and logs to $LOGDIR/SERVICE.log. setsid gives it its
# own session so that the test can find every process it leaves.
function run_process {
    local service=$1 command=$2 env_vars=${5:-}
    is_service_enabled "$service" || return 0
    mkdir -p "$SERVICE_DIR" "$LOGDIR"
    local -a argv envs=()
    read -r -a argv <<<"$command"
    [[ -n $env_vars ]] && read -r -a envs <<<"$env_vars"
    env "${envs[@]}" setsid "${argv[@]}" >>"$LOGDIR/$service.log" 2>&1 </dev/null &
    echo $! >"$SERVICE_DIR/$service.pid"
    echo "started $service (pid $!)"
}

# shim_alive PID: true while PID exists and is not a zombie (PID 1 here
# does not reap orphans, and kill -0 succeeds on a zombie).
function shim_alive {
    local state
    [[ -r /proc/$1/stat ]] || return 1
    state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

# stop_process SERVICE: SIGTERM to the main pid only (systemd's
# KillMode=process), wait up to SHIM_STOP_TIMEOUT seconds. A process that
# ignores SIGTERM is recorded in $SERVICE_DIR/SERVICE.killed and killed.
function stop_process {
    local service=$1 pidfile pid i
    is_service_enabled "$service" || return 0
    pidfile=$SERVICE_DIR/$service.pid
    [[ -r $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if shim_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < ${SHIM_STOP_TIMEOUT:-30} * 10; i++)); do
            shim_alive "$pid" || break
            sleep 0.1
        done
        if shim_alive "$pid"; then
            echo "$pid" >"$SERVICE_DIR/$service.killed"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

# wait_for_service TIMEOUT URL: wait while the URL refuses connections or
# answers 503.
function wait_for_service {
    local timeout=$1 url=$2 deadline code rc
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        rc=0
        code=$(curl -k --noproxy '*' -s -o /dev/null -w '%{http_code}' "$url") || rc=$?
        if [[ $rc -ne 7 && $code != 503 && $code != 000 ]]; then
            return 0
        fi
        sleep 1
    done
    return 1
}
