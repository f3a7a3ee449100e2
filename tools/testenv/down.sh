#!/usr/bin/env bash
# Stops what up.sh started, and nothing else:
#   down.sh [all|mariadb|keystone|memcached|swift|s3|sshd|ftp|freezer-api-py|glance]... [--purge]
# Only pids recorded in $ROOT/run/*.pid are signalled, and only while
# /proc/PID/cmdline still shows the program we started (pids get reused).
# Never pkill/killall. MariaDB is stopped only if up.sh started it.
# --purge (with all) also deletes the state directory and our databases so
# the next up.sh is a cold start; the Unix users fzbackup/fzftp are kept.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=""
comps=()
for a in "$@"; do
  case $a in
  --purge) purge=1 ;;
  all) comps+=(glance freezer-api-py ftp sshd swift memcached keystone mariadb) ;;
  s3) comps+=(swift) ;; # s3api lives in the Swift proxy
  mariadb | keystone | memcached | swift | sshd | ftp | freezer-api-py | glance) comps+=("$a") ;;
  *)
    echo "usage: $0 [all|mariadb|keystone|memcached|swift|sshd|ftp|freezer-api-py|glance]... [--purge]" >&2
    exit 2
    ;;
  esac
done
((${#comps[@]} == 0)) && comps=(glance freezer-api-py ftp sshd swift memcached keystone mariadb)

for c in "${comps[@]}"; do
  case $c in
  glance) stop_pid glance glance-api ;;
  freezer-api-py) stop_pid freezer-api-py 'freezer-api-py.*uWSGI|uwsgi.*freezer-api-wsgi' ;;
  ftp)
    stop_pid vsftpd-ftp vsftpd
    stop_pid vsftpd-ftps vsftpd
    ;;
  sshd) stop_pid sshd sshd ;;
  swift) for s in proxy object container account; do stop_pid "swift-$s" "swift-$s-server"; done ;;
  memcached) stop_pid memcached memcached ;;
  keystone) stop_pid keystone 'keystone.*uWSGI|uwsgi.*keystone-wsgi' ;;
  mariadb)
    # Before stopping a MariaDB we started, drop the databases this state
    # directory made (listed in $ROOT/databases) if purging.
    if [[ -n $purge && -s $ROOT/databases ]] && sql -e 'select 1' >/dev/null 2>&1; then
      while read -r db; do
        [[ $db =~ ^[A-Za-z0-9_]+$ ]] || continue
        sql -e "DROP DATABASE IF EXISTS \`$db\`"
        echo "mariadb: dropped database $db"
      done <"$ROOT/databases"
      rm -f "$ROOT/databases"
    fi
    if [[ -s $RUN/mariadb.pid ]]; then
      stop_pid mariadb mariadbd
    else
      echo "mariadb: not started by us; left running"
    fi
    ;;
  esac
done

if [[ -n $purge ]]; then
  # Refuse to purge while a recorded process of ours still runs.
  left=""
  for f in "$RUN"/*.pid; do
    [[ -e $f ]] || continue
    [[ $(basename "$f") == *.self.pid ]] && continue
    p=$(head -n1 "$f")
    alive "$p" && left+=" $(basename "$f" .pid)"
  done
  [[ -z $left ]] || die "not purging: still running:$left"
  case $ROOT in
  / | /var | /var/tmp | /tmp | "$HOME") die "refusing to purge $ROOT" ;;
  esac
  rm -rf "$ROOT"
  echo "purged $ROOT"
fi
