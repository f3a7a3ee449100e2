# shellcheck shell=bash
# shellcheck disable=SC2034 # settings used by the scripts that source this
# Shared settings and helpers for up.sh, down.sh and env.sh. Sourced, never
# run. Every service listens on 127.0.0.1 only; every process we start is
# recorded in $RUN/<name>.pid so that down.sh can stop exactly those.

# The Python on PATH may be a pyenv shim that cannot see Debian's OpenStack
# modules; the Debian programs must run with /usr/bin/python3.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PYTHONPATH VIRTUAL_ENV PYTHONHOME
export PYTHONWARNINGS=ignore LC_ALL=C.UTF-8

ROOT=${FREEZER_TESTENV_ROOT:-/var/tmp/freezer-testenv}
RUN=$ROOT/run
LOG=$ROOT/log
ENV_FILE=$ROOT/testenv.env
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

HOST=127.0.0.1
REGION=RegionOne

# MariaDB: the machine's own server (root without password over TCP); our
# databases are reached with a dedicated account.
MYSQL_PORT=3306
DB_USER=fzenv
DB_PASS=fzenv_db_pw

KEYSTONE_PORT=5000
AUTH_URL=http://$HOST:$KEYSTONE_PORT/v3
ADMIN_PASS=admin_pw
DEMO_PASS=demo_pw
OTHER_PASS=other_pw
SWIFT_SVC_PASS=swift_svc_pw
FREEZER_SVC_PASS=freezer_svc_pw

MEMCACHED_PORT=11211
SWIFT_PROXY_PORT=8080
SWIFT_OBJECT_PORT=6200
SWIFT_CONTAINER_PORT=6201
SWIFT_ACCOUNT_PORT=6202
S3_REGION=us-east-1

# The catalog's `backup` service (name `freezer`) points at the Go
# freezer-api's port; the upstream Python one runs beside it for comparison.
BACKUP_PORT=9090
FREEZER_API_PY_PORT=9091

# Glance (image service) with its file store, for the glance mode.
GLANCE_PORT=9292
GLANCE_SVC_PASS=glance_svc_pw

SSH_PORT=2222
SSH_USER=fzbackup
FTP_PORT=2121
FTPS_PORT=2990
FTP_USER=fzftp
FTP_PASS=fzftp_pw

mkdir -p "$RUN" "$LOG"

# T0 is set once by the top-level script so that nested calls share the clock.
: "${TESTENV_T0:=${EPOCHREALTIME/,/.}}"
export TESTENV_T0

# stamp COMPONENT MESSAGE: one progress line with the time since T0 and,
# when a component is being brought up (COMP_T0 set by up.sh), the time
# spent on that component so far.
COMP_T0=""
stamp() {
  local now=${EPOCHREALTIME/,/.}
  awk -v a="$TESTENV_T0" -v b="$now" -v s="${COMP_T0:-}" -v c="$1" -v m="$2" \
    'BEGIN { took = (s == "") ? "" : sprintf(" [%.2fs]", b - s)
             printf "[+%6.2fs] %s: %s%s\n", b - a, c, m, took }'
}

die() {
  echo "testenv: $*" >&2
  exit 1
}

# alive PID: the process exists and is not a zombie. PID 1 on these machines
# does not reap re-parented daemons, so a stopped service lingers as a zombie
# and `kill -0` alone would call it alive.
alive() {
  local pid=$1 st
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/stat ]] || return 1
  st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $st != Z && $st != X ]]
}

# owned PID PATTERN: the process's command line still matches what we started
# (guards against a reused pid). uwsgi rewrites its cmdline to its procname.
owned() {
  local pid=$1 pat=$2 cmd
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd =~ $pat ]]
}

# pid_of NAME: the recorded pid, or nothing.
pid_of() {
  [[ -s $RUN/$1.pid ]] && head -n1 "$RUN/$1.pid"
}

# running NAME PATTERN: our recorded process NAME is alive and still ours.
running() {
  local pid
  pid=$(pid_of "$1") || return 1
  alive "$pid" && owned "$pid" "$2"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# http_ok URL [CODE...]: the URL answers with one of the codes (default 200).
http_code() {
  curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true
}
http_ok() {
  local url=$1 code
  shift
  code=$(http_code "$url")
  local want
  for want in "${@:-200}"; do
    [[ $code == "$want" ]] && return 0
  done
  return 1
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.1 s until it succeeds.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "testenv: timed out after ${limit}s waiting for $what" >&2
      return 1
    fi
    sleep 0.1
  done
}

# spawn NAME CMD...: starts CMD in its own session, detached from our
# stdin/stdout (so `make` and CI do not wait on it), logs to $LOG/NAME.log and
# records the pid of CMD itself (setsid execs in place in a script, where
# background jobs are not process-group leaders).
spawn() {
  local name=$1
  shift
  setsid "$@" </dev/null >>"$LOG/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

# spawn_reaped NAME CMD...: like spawn, under reap.py, for servers that fork
# a process per connection (sshd, vsftpd) and would otherwise leave zombies
# that PID 1 here never reaps. The recorded pid is the wrapper's; its
# cmdline still names CMD, and it passes TERM on.
spawn_reaped() {
  local name=$1
  shift
  spawn "$name" "$PY" "$HERE/reap.py" "$@"
}

# stop_pid NAME PATTERN: TERM, then KILL after 15 s, only if the recorded pid
# is alive and its cmdline matches PATTERN. Removes the pid file.
stop_pid() {
  local name=$1 pat=$2 pid i
  pid=$(pid_of "$name") || return 0
  if alive "$pid" && owned "$pid" "$pat"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "testenv: $name (pid $pid) ignored TERM for 15s; sending KILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "$name: stopped (pid $pid)"
  elif alive "$pid"; then
    echo "$name: pid $pid is not ours any more ($(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-60)); left alone"
  fi
  rm -f "$RUN/$name.pid"
}

# sql [ARGS...]: the MariaDB client as root over TCP (no password).
sql() {
  mysql --protocol=TCP -h "$HOST" -P "$MYSQL_PORT" -uroot --batch --skip-column-names "$@"
}

# own_database NAME: remembers in $ROOT/databases that this state directory
# made database NAME, so that `down.sh --purge` drops only databases that
# belong to it (the MariaDB server is shared with everything else).
own_database() {
  grep -qx "$1" "$ROOT/databases" 2>/dev/null || echo "$1" >>"$ROOT/databases"
}

# db_url DATABASE: SQLAlchemy URL for the Python services.
db_url() {
  echo "mysql+pymysql://$DB_USER:$DB_PASS@$HOST:$MYSQL_PORT/$1?charset=utf8mb4"
}
