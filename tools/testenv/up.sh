#!/usr/bin/env bash
# Starts the integration test environment on 127.0.0.1, idempotently:
#   up.sh [all|mariadb|keystone|memcached|swift|s3|sshd|ftp|freezer-api-py|glance]...
# A component that is already running and answering prints "already up" and
# is not touched. First use initialises its state under
# ${FREEZER_TESTENV_ROOT:-/var/tmp/freezer-testenv}; `down.sh all --purge`
# wipes it. `all` is everything except freezer-api-py (the upstream Python
# API, only needed by the benchmark) and glance (Glance with its file store,
# started by the glance mode's integration tests). When done, the addresses and
# credentials are in $ROOT/testenv.env (read by internal/testutil/testenv).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL=(mariadb keystone memcached swift s3 sshd ftp)

# need COMPONENT: brings a component up once per run (dependencies and the
# command line may name it several times).
declare -A STARTED=() FRESH=()
need() {
  [[ -n ${STARTED[$1]:-} ]] && return 0
  STARTED[$1]=1
  local outer=$COMP_T0
  COMP_T0=${EPOCHREALTIME/,/.}
  "up_${1//-/_}"
  COMP_T0=$outer
}

usage() {
  echo "usage: $0 [all|${ALL[*]// /|}|freezer-api-py|glance]..." >&2
  exit 2
}

# ---------------------------------------------------------------- MariaDB
# The machine normally runs MariaDB already (root without password on
# 127.0.0.1:3306); we only start one when nothing answers, and only a server
# we started is ever stopped by down.sh.
up_mariadb() {
  local how="already up (the machine's server; left as it is)"
  if running mariadb mariadbd; then how="already up (started by us, pid $(pid_of mariadb))"; fi
  if ! sql -e 'select 1' >/dev/null 2>&1; then
    if port_open "$MYSQL_PORT"; then
      die "something listens on $HOST:$MYSQL_PORT but root cannot log in without a password"
    fi
    install -d -o mysql -g mysql /run/mysqld
    install -d -o mysql -g adm /var/log/mysql 2>/dev/null || install -d /var/log/mysql
    if [[ ! -d /var/lib/mysql/mysql ]]; then
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >>"$LOG/mariadb-install.log" 2>&1
    fi
    start-stop-daemon --start --oknodo --background --make-pidfile \
      --pidfile "$RUN/mariadb.pid" --exec /usr/sbin/mariadbd -- \
      --bind-address="$HOST" --port="$MYSQL_PORT"
    wait_until 60 "MariaDB on $HOST:$MYSQL_PORT" port_open "$MYSQL_PORT"
    # A fresh data directory only lets root in over the Unix socket.
    if ! wait_until 10 "root login" sql -e 'select 1' >/dev/null 2>&1; then
      mysql -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
        GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
    fi
    how="up (started by us, pid $(pid_of mariadb))"
  fi
  # Our account for the Python services; made once, kept across purges.
  local have
  have=$(sql -e "SELECT COUNT(*) FROM mysql.user WHERE user = '$DB_USER'")
  [[ $have -ge 2 ]] || sql <<SQL
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`keystone\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`freezer_py\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
SQL
  stamp mariadb "$how on $HOST:$MYSQL_PORT"
}

# --------------------------------------------------------------- Keystone
KS=$ROOT/keystone
KS_CONF=$KS/keystone.conf
KS_PAT='keystone.*uWSGI|uwsgi.*keystone-wsgi'

keystone_conf() {
  mkdir -p "$KS"
  cat >"$KS_CONF" <<EOF
[DEFAULT]
log_file = $LOG/keystone.log
use_stderr = false
[database]
connection = $(db_url keystone)
[token]
provider = fernet
expiration = 14400
[fernet_tokens]
key_repository = $KS/fernet-keys
[fernet_receipts]
key_repository = $KS/fernet-keys
[credential]
key_repository = $KS/credential-keys
# The memory cache hands out the same dict on every hit and credential
# decryption pops a key from it: caching credentials breaks EC2/s3tokens.
caching = false
[cache]
# Without a cache every authenticated request costs 300-500 ms on 2 cores.
# One uwsgi worker keeps this in-process cache coherent.
enabled = true
backend = dogpile.cache.memory
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
EOF
}

keystone_init() {
  # The marker lives with the keys, the data in MariaDB: both must be there.
  if [[ -f $KS/.initialised ]] && [[ -n $(sql -e "SHOW DATABASES LIKE 'keystone'") ]]; then
    return 0
  fi
  sql -e "DROP DATABASE IF EXISTS keystone; CREATE DATABASE keystone CHARACTER SET utf8mb4;"
  own_database keystone
  rm -rf "$KS/fernet-keys" "$KS/credential-keys" "$KS/ids.env" "$KS/.initialised"
  local km=(keystone-manage --config-file "$KS_CONF")
  {
    "${km[@]}" db_sync
    "${km[@]}" fernet_setup --keystone-user root --keystone-group root
    "${km[@]}" credential_setup --keystone-user root --keystone-group root
    "${km[@]}" bootstrap --bootstrap-password "$ADMIN_PASS" \
      --bootstrap-username admin --bootstrap-project-name admin \
      --bootstrap-role-name admin --bootstrap-region-id "$REGION" \
      --bootstrap-admin-url "$AUTH_URL" --bootstrap-internal-url "$AUTH_URL" \
      --bootstrap-public-url "$AUTH_URL"
  } >>"$LOG/keystone-manage.log" 2>&1 || die "keystone-manage failed; see $LOG/keystone-manage.log"
  touch "$KS/.initialised"
  stamp keystone "initialised (db_sync, fernet, credential keys, bootstrap)"
}

# The seed spec: who exists and what the catalog holds.
seed_spec() {
  cat <<EOF
{"region": "$REGION",
 "users": [
  {"name": "demo", "password": "$DEMO_PASS", "project": "demo", "roles": ["member", "reader"], "ec2": true},
  {"name": "other", "password": "$OTHER_PASS", "project": "other", "roles": ["member", "reader"], "ec2": true},
  {"name": "swift", "password": "$SWIFT_SVC_PASS", "project": "service", "roles": ["admin", "service"]},
  {"name": "freezer", "password": "$FREEZER_SVC_PASS", "project": "service", "roles": ["admin", "service"]}
 ],
 "services": [
  {"type": "object-store", "name": "swift", "urls": {
    "public": "http://$HOST:$SWIFT_PROXY_PORT/v1/AUTH_%(project_id)s",
    "internal": "http://$HOST:$SWIFT_PROXY_PORT/v1/AUTH_%(project_id)s",
    "admin": "http://$HOST:$SWIFT_PROXY_PORT/v1"}},
  {"type": "backup", "name": "freezer", "urls": {
    "public": "http://$HOST:$BACKUP_PORT",
    "internal": "http://$HOST:$BACKUP_PORT",
    "admin": "http://$HOST:$BACKUP_PORT"}}
 ]}
EOF
}

keystone_seed() {
  [[ -s $KS/ids.env ]] && return 0
  local tmp=$KS/ids.env.tmp
  "$PY" "$HERE/ks_seed.py" "$AUTH_URL" "$ADMIN_PASS" "$(seed_spec)" >"$tmp" 2>>"$LOG/ks_seed.log" ||
    die "seeding Keystone failed; see $LOG/ks_seed.log"
  mv "$tmp" "$KS/ids.env"
  stamp keystone "seeded (projects demo/other/service, users, roles, catalog, EC2 credentials)"
}

up_keystone() {
  need mariadb
  if running keystone "$KS_PAT" && http_ok "$AUTH_URL"; then
    stamp keystone "already up on $AUTH_URL (pid $(pid_of keystone))"
    return 0
  fi
  stop_pid keystone "$KS_PAT" >/dev/null
  port_open "$KEYSTONE_PORT" && die "port $KEYSTONE_PORT is taken by a process we did not start"
  keystone_conf
  keystone_init
  # --http-socket does not keep connections alive, so tell clients to close
  # theirs; keystoneauth sessions otherwise reuse a dead connection.
  spawn keystone uwsgi --plugin python3 --master --die-on-term --need-app \
    --http-socket "$HOST:$KEYSTONE_PORT" --wsgi-file /usr/bin/keystone-wsgi-public \
    --processes 1 --threads 4 --buffer-size 65535 \
    --add-header "Connection: close" --procname-prefix-spaced keystone \
    --env "OS_KEYSTONE_CONFIG_FILES=$KS_CONF"
  wait_until 90 "Keystone on $AUTH_URL" http_ok "$AUTH_URL" ||
    die "Keystone did not answer; see $LOG/keystone.log"
  keystone_seed
  FRESH[keystone]=1
  stamp keystone "up on $AUTH_URL (uwsgi master pid $(pid_of keystone))"
}

# -------------------------------------------------------------- memcached
up_memcached() {
  if running memcached memcached && port_open "$MEMCACHED_PORT"; then
    stamp memcached "already up on $HOST:$MEMCACHED_PORT"
    return 0
  fi
  stop_pid memcached memcached >/dev/null
  port_open "$MEMCACHED_PORT" && die "port $MEMCACHED_PORT is taken by a process we did not start"
  spawn memcached /usr/bin/memcached -l "$HOST" -p "$MEMCACHED_PORT" -U 0 -m 64 -u memcache
  wait_until 10 memcached port_open "$MEMCACHED_PORT"
  stamp memcached "up on $HOST:$MEMCACHED_PORT"
}

# ------------------------------------------------------------------ Swift
SW=$ROOT/swift
SW_ETC=$SW/etc
SWIFT_SERVERS=(object container account proxy)

swift_port() {
  case $1 in
  object) echo "$SWIFT_OBJECT_PORT" ;; container) echo "$SWIFT_CONTAINER_PORT" ;;
  account) echo "$SWIFT_ACCOUNT_PORT" ;; proxy) echo "$SWIFT_PROXY_PORT" ;;
  esac
}

swift_healthy() {
  local s
  for s in "${SWIFT_SERVERS[@]}"; do
    running "swift-$s" "swift-$s-server" || return 1
    http_ok "http://$HOST:$(swift_port "$s")/healthcheck" || return 1
  done
}

swift_init() {
  [[ -f $SW/.initialised ]] && return 0
  [[ -f /etc/swift/swift.conf ]] || die "/etc/swift/swift.conf is missing (package swift)"
  rm -rf "$SW"
  mkdir -p "$SW_ETC" "$SW/node/d1" "$SW/cache"
  # Swift keeps object metadata in user xattrs: fail early with a hint.
  "$PY" -c 'import os, sys; os.setxattr(sys.argv[1], "user.swift.probe", b"x" * 254)' "$SW/node/d1" ||
    die "$SW/node lacks user xattrs; set FREEZER_TESTENV_ROOT to an ext4/xfs/tmpfs(user_xattr) path"
  local ring pids=()
  for ring in object container account; do
    (
      cd "$SW_ETC"
      swift-ring-builder "$ring.builder" create 8 1 1
      swift-ring-builder "$ring.builder" add "r1z1-$HOST:$(swift_port "$ring")/d1" 100
      swift-ring-builder "$ring.builder" rebalance
    ) >>"$LOG/swift-rings.log" 2>&1 &
    pids+=($!)
  done
  local p
  for p in "${pids[@]}"; do wait "$p" || die "building Swift rings failed; see $LOG/swift-rings.log"; done
  touch "$SW/.initialised"
  stamp swift "initialised (xattr probe, 3 rings: part power 8, 1 replica)"
}

swift_conf() {
  local s
  for s in object container account; do
    cat >"$SW_ETC/$s-server.conf" <<EOF
[DEFAULT]
bind_ip = $HOST
bind_port = $(swift_port "$s")
workers = 0
devices = $SW/node
mount_check = false
swift_dir = $SW_ETC
log_name = $s-server
[pipeline:main]
pipeline = healthcheck $s-server
[app:$s-server]
use = egg:swift#$s
[filter:healthcheck]
use = egg:swift#healthcheck
[$s-replicator]
[$s-updater]
[$s-auditor]
EOF
  done
  # Order matters: authtoken before s3api (else both authenticate), s3api
  # before s3token before keystoneauth, slo between s3api and the app (else
  # S3 multipart upload is silently off).
  cat >"$SW_ETC/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = $HOST
bind_port = $SWIFT_PROXY_PORT
workers = 0
swift_dir = $SW_ETC
log_name = proxy-server
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl authtoken s3api s3token keystoneauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = $AUTH_URL
auth_url = http://$HOST:$KEYSTONE_PORT
auth_type = password
project_domain_id = default
user_domain_id = default
project_name = service
username = swift
password = $SWIFT_SVC_PASS
delay_auth_decision = true
cache = swift.cache
include_service_catalog = false
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_prefix = AUTH_
[filter:s3api]
use = egg:swift#s3api
location = $S3_REGION
[filter:s3token]
use = egg:swift#s3token
auth_uri = $AUTH_URL
reseller_prefix = AUTH_
delay_auth_decision = false
auth_type = password
auth_url = http://$HOST:$KEYSTONE_PORT
project_domain_id = default
user_domain_id = default
project_name = service
username = swift
password = $SWIFT_SVC_PASS
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = $HOST:$MEMCACHED_PORT
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:copy]
use = egg:swift#copy
[filter:container-quotas]
use = egg:swift#container_quotas
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
[filter:symlink]
use = egg:swift#symlink
EOF
}

up_swift() {
  need memcached
  if swift_healthy; then
    stamp swift "already up: proxy http://$HOST:$SWIFT_PROXY_PORT"
    return 0
  fi
  running keystone "$KS_PAT" || echo "swift: note: Keystone is not up; requests will fail until it is" >&2
  swift_init
  swift_conf
  local s port
  for s in "${SWIFT_SERVERS[@]}"; do
    port=$(swift_port "$s")
    if running "swift-$s" "swift-$s-server" && http_ok "http://$HOST:$port/healthcheck"; then
      continue
    fi
    stop_pid "swift-$s" "swift-$s-server" >/dev/null
    port_open "$port" && die "port $port is taken by a process we did not start"
    # --verbose logs to the console (our log file): without it Swift logs
    # to syslog, which does not exist here.
    spawn "swift-$s" "/usr/bin/swift-$s-server" "$SW_ETC/$s-server.conf" --verbose
  done
  for s in "${SWIFT_SERVERS[@]}"; do
    wait_until 60 "swift-$s" http_ok "http://$HOST:$(swift_port "$s")/healthcheck" ||
      die "swift-$s did not answer; see $LOG/swift-$s.log"
  done
  FRESH[swift]=1
  stamp swift "up (keystoneauth, s3api): proxy http://$HOST:$SWIFT_PROXY_PORT"
}

# --------------------------------------------------------------------- S3
# s3api lives in the Swift proxy; this checks that demo's EC2 keys work
# with a signed ListBuckets (curl signs SigV4 itself).
s3_probe() {
  local ak sk
  ak=$(sed -n 's/^DEMO_S3_ACCESS_KEY=//p' "$KS/ids.env")
  sk=$(sed -n 's/^DEMO_S3_SECRET_KEY=//p' "$KS/ids.env")
  # SigV4 requires the payload hash header; this one is the empty body's.
  curl -s -m 10 --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$ak:$sk" \
    -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
    "http://$HOST:$SWIFT_PROXY_PORT/" 2>/dev/null | grep ListAllMyBucketsResult >/dev/null
}

up_s3() {
  need keystone
  need swift
  wait_until 30 "an S3 ListBuckets with demo's EC2 keys" s3_probe ||
    die "S3 probe failed; see $LOG/swift-proxy.log"
  if [[ -z ${FRESH[keystone]:-}${FRESH[swift]:-} ]]; then
    stamp s3 "already up: http://$HOST:$SWIFT_PROXY_PORT (path-style, $S3_REGION)"
  else
    stamp s3 "up: http://$HOST:$SWIFT_PROXY_PORT (path-style, $S3_REGION; EC2 keys for demo and other)"
  fi
}

# -------------------------------------------------------------------- sshd
SSHD=$ROOT/sshd

# ensure_user NAME: a local user with a home and a login shell. useradd
# leaves "!" in the shadow password field, which sshd without PAM takes for
# a locked account even for key logins: "*" means no password, not locked.
ensure_user() {
  id "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1"
  [[ -d /home/$1 ]] || install -d -o "$1" -g "$1" "/home/$1"
}

sshd_init() {
  [[ -f $SSHD/.initialised ]] && return 0
  mkdir -p "$SSHD"
  rm -f "$SSHD"/ssh_host_* "$SSHD"/fzbackup_key*
  ssh-keygen -q -t ed25519 -N '' -C fzenv-host -f "$SSHD/ssh_host_ed25519_key"
  ssh-keygen -q -t rsa -b 3072 -N '' -C fzenv-host -f "$SSHD/ssh_host_rsa_key"
  ssh-keygen -q -t ed25519 -N '' -C "$SSH_USER@freezer-testenv" -f "$SSHD/fzbackup_key"
  {
    echo "[$HOST]:$SSH_PORT $(cut -d' ' -f1,2 "$SSHD/ssh_host_ed25519_key.pub")"
    echo "[$HOST]:$SSH_PORT $(cut -d' ' -f1,2 "$SSHD/ssh_host_rsa_key.pub")"
  } >"$SSHD/known_hosts"
  touch "$SSHD/.initialised"
}

sshd_conf() {
  cat >"$SSHD/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress $HOST
HostKey $SSHD/ssh_host_ed25519_key
HostKey $SSHD/ssh_host_rsa_key
PidFile $RUN/sshd.self.pid
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers $SSH_USER
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
Subsystem sftp internal-sftp
EOF
}

up_sshd() {
  if running sshd 'sshd' && port_open "$SSH_PORT"; then
    stamp sshd "already up on $HOST:$SSH_PORT (user $SSH_USER)"
    return 0
  fi
  stop_pid sshd 'sshd' >/dev/null
  port_open "$SSH_PORT" && die "port $SSH_PORT is taken by a process we did not start"
  sshd_init
  sshd_conf
  ensure_user "$SSH_USER"
  usermod -p '*' "$SSH_USER"
  install -d -m 700 -o "$SSH_USER" -g "$SSH_USER" "/home/$SSH_USER/.ssh"
  install -m 600 -o "$SSH_USER" -g "$SSH_USER" "$SSHD/fzbackup_key.pub" "/home/$SSH_USER/.ssh/authorized_keys"
  install -d -o "$SSH_USER" -g "$SSH_USER" "/home/$SSH_USER/backups"
  install -d -m 755 /run/sshd
  /usr/sbin/sshd -t -f "$SSHD/sshd_config" || die "sshd -t rejected $SSHD/sshd_config"
  # -D keeps sshd in the foreground so the pid we record is the listener.
  spawn_reaped sshd /usr/sbin/sshd -D -e -f "$SSHD/sshd_config"
  wait_until 10 sshd port_open "$SSH_PORT"
  stamp sshd "up on $HOST:$SSH_PORT (user $SSH_USER, key $SSHD/fzbackup_key)"
}

# --------------------------------------------------------------------- FTP
FTPD=$ROOT/ftp

ftp_conf() {
  local kind=$1 port=$2 pasv_min=$3 pasv_max=$4
  cat <<EOF
listen=YES
listen_ipv6=NO
listen_address=$HOST
listen_port=$port
background=NO
local_enable=YES
write_enable=YES
local_umask=022
chroot_local_user=NO
anonymous_enable=NO
pasv_enable=YES
pasv_address=$HOST
pasv_min_port=$pasv_min
pasv_max_port=$pasv_max
port_enable=NO
pam_service_name=vsftpd
userlist_enable=YES
userlist_deny=NO
userlist_file=$FTPD/users
secure_chroot_dir=$FTPD/empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=YES
vsftpd_log_file=$LOG/vsftpd-$kind-xfer.log
dual_log_enable=YES
xferlog_file=$LOG/vsftpd-$kind-xferlog.log
EOF
  if [[ $kind == ftps ]]; then
    # Explicit FTPS, TLS required for login and data. Clients such as
    # Python's ftplib and Go's do not resume the TLS session on the data
    # connection; vsftpd's default cipher list is unusable with OpenSSL 3.
    cat <<EOF
ssl_enable=YES
implicit_ssl=NO
force_local_logins_ssl=YES
force_local_data_ssl=YES
ssl_tlsv1=NO
ssl_sslv2=NO
ssl_sslv3=NO
ssl_ciphers=HIGH
require_ssl_reuse=NO
rsa_cert_file=$FTPD/ftps-cert.pem
rsa_private_key_file=$FTPD/ftps-key.pem
EOF
  fi
}

ftp_init() {
  [[ -f $FTPD/.initialised ]] && return 0
  mkdir -p "$FTPD/empty"
  chmod 755 "$FTPD/empty"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$HOST" \
    -addext "subjectAltName=IP:$HOST" \
    -keyout "$FTPD/ftps-key.pem" -out "$FTPD/ftps-cert.pem" >>"$LOG/ftp-init.log" 2>&1
  chmod 600 "$FTPD/ftps-key.pem"
  echo "$FTP_USER" >"$FTPD/users"
  touch "$FTPD/.initialised"
}

up_ftp() {
  if running vsftpd-ftp vsftpd && running vsftpd-ftps vsftpd &&
    port_open "$FTP_PORT" && port_open "$FTPS_PORT"; then
    stamp ftp "already up: ftp://$HOST:$FTP_PORT, explicit FTPS :$FTPS_PORT (user $FTP_USER)"
    return 0
  fi
  ftp_init
  ensure_user "$FTP_USER"
  echo "$FTP_USER:$FTP_PASS" | chpasswd
  install -d -o "$FTP_USER" -g "$FTP_USER" "/home/$FTP_USER/backups"
  local kind port
  for kind in ftp ftps; do
    if [[ $kind == ftp ]]; then port=$FTP_PORT; else port=$FTPS_PORT; fi
    running "vsftpd-$kind" vsftpd && port_open "$port" && continue
    stop_pid "vsftpd-$kind" vsftpd >/dev/null
    port_open "$port" && die "port $port is taken by a process we did not start"
    if [[ $kind == ftp ]]; then
      ftp_conf ftp "$FTP_PORT" 30000 30009 >"$FTPD/vsftpd-ftp.conf"
    else
      ftp_conf ftps "$FTPS_PORT" 30010 30019 >"$FTPD/vsftpd-ftps.conf"
    fi
    spawn_reaped "vsftpd-$kind" /usr/sbin/vsftpd "$FTPD/vsftpd-$kind.conf"
  done
  wait_until 10 "vsftpd :$FTP_PORT" port_open "$FTP_PORT"
  wait_until 10 "vsftpd :$FTPS_PORT" port_open "$FTPS_PORT"
  stamp ftp "up: ftp://$HOST:$FTP_PORT (pasv 30000-30009), explicit FTPS :$FTPS_PORT (pasv 30010-30019), user $FTP_USER"
}

# -------------------------------------------------- upstream freezer-api
FZ=$ROOT/freezer-api-py
FZ_PAT='freezer-api-py.*uWSGI|uwsgi.*freezer-api-wsgi'

freezer_api_py_conf() {
  mkdir -p "$FZ"
  cat >"$FZ/freezer-api.conf" <<EOF
[DEFAULT]
log_file = $LOG/freezer-api-py.log
use_stderr = false
bind_host = $HOST
bind_port = $FREEZER_API_PY_PORT
enable_v1_api = false
[storage]
backend = sqlalchemy
driver = sqlalchemy
[database]
connection = $(db_url freezer_py)
[paste_deploy]
config_file = $FZ/freezer-paste.ini
[keystone_authtoken]
www_authenticate_uri = $AUTH_URL
auth_url = http://$HOST:$KEYSTONE_PORT
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = freezer
password = $FREEZER_SVC_PASS
memcached_servers = $HOST:$MEMCACHED_PORT
EOF
  # The upstream pipeline (root_app_factory drops /v1 or /v2 from the
  # composite, so both must be listed), written here because only python3-freezer-api
  # (not the freezer-api package with /etc/freezer) is installed.
  cat >"$FZ/freezer-paste.ini" <<EOF
[app:api_versions]
paste.app_factory = freezer_api.api.versions:api_versions
[app:appv1]
paste.app_factory = freezer_api.service:freezer_appv1_factory
[app:appv2]
paste.app_factory = freezer_api.service:freezer_appv2_factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[filter:context]
paste.filter_factory = freezer_api.api.common.middleware:ContextMiddleware.factory
[filter:healthcheck]
paste.filter_factory = oslo_middleware:Healthcheck.factory
backends = disable_by_file
disable_by_file_path = $FZ/healthcheck_disable
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
oslo_config_project = freezer-api
[filter:versionsNegotiator]
paste.filter_factory = freezer_api.api.versions:VersionNegotiator.factory
[pipeline:main]
pipeline = healthcheck http_proxy_to_wsgi versionsNegotiator authtoken context backupapp
[composite:backupapp]
paste.composite_factory = freezer_api.service:root_app_factory
/: api_versions
/v1: appv1
/v2: appv2
EOF
}

freezer_api_py_tables() {
  sql -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='freezer_py'"
}

up_freezer_api_py() {
  need keystone
  need memcached
  local url=http://$HOST:$FREEZER_API_PY_PORT
  if running freezer-api-py "$FZ_PAT" && http_ok "$url/healthcheck"; then
    stamp freezer-api-py "already up on $url"
    return 0
  fi
  stop_pid freezer-api-py "$FZ_PAT" >/dev/null
  port_open "$FREEZER_API_PY_PORT" && die "port $FREEZER_API_PY_PORT is taken by a process we did not start"
  freezer_api_py_conf
  sql -e "CREATE DATABASE IF NOT EXISTS freezer_py CHARACTER SET utf8mb4"
  own_database freezer_py
  if [[ $(freezer_api_py_tables) -lt 5 ]]; then
    # freezer-manage prints errors but always exits 0: count the tables.
    freezer-manage --config-file "$FZ/freezer-api.conf" db sync >>"$LOG/freezer-manage.log" 2>&1 || true
    [[ $(freezer_api_py_tables) -ge 5 ]] || die "freezer-manage db sync failed; see $LOG/freezer-manage.log"
    stamp freezer-api-py "database freezer_py synced"
  fi
  # The app parses sys.argv for its config file, hence --pyargv.
  spawn freezer-api-py uwsgi --plugin python3 --master --die-on-term --need-app \
    --http-socket "$HOST:$FREEZER_API_PY_PORT" --wsgi-file /usr/bin/freezer-api-wsgi \
    --pyargv "--config-file $FZ/freezer-api.conf" \
    --processes 2 --threads 1 --buffer-size 65535 \
    --add-header "Connection: close" --procname-prefix-spaced freezer-api-py
  wait_until 90 "freezer-api-py on $url" http_ok "$url/healthcheck" ||
    die "freezer-api-py did not answer; see $LOG/freezer-api-py.log"
  stamp freezer-api-py "up on $url (upstream Python freezer-api, uwsgi master pid $(pid_of freezer-api-py))"
}

# ----------------------------------------------------------------- Glance
# glance-api (Debian's eventlet server) with the file store, its database on
# the machine's MariaDB, keystonemiddleware against our Keystone, and the
# `image` service in the catalog. Images live under $GL/images.
GL=$ROOT/glance
GL_PAT='glance-api'

glance_conf() {
  mkdir -p "$GL/images" "$GL/lock"
  cat >"$GL/glance-api.conf" <<EOF
[DEFAULT]
bind_host = $HOST
bind_port = $GLANCE_PORT
workers = 1
log_file = $LOG/glance-api.log
use_stderr = false
[database]
connection = $(db_url glance_fz)
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = $GL/images/
[keystone_authtoken]
www_authenticate_uri = $AUTH_URL
auth_url = http://$HOST:$KEYSTONE_PORT
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = $GLANCE_SVC_PASS
memcached_servers = $HOST:$MEMCACHED_PORT
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[oslo_concurrency]
lock_path = $GL/lock
EOF
}

glance_seed() {
  [[ -s $GL/seeded ]] && return 0
  local spec
  spec=$(
    cat <<EOF
{"region": "$REGION",
 "users": [{"name": "glance", "password": "$GLANCE_SVC_PASS", "project": "service", "roles": ["admin", "service"]}],
 "services": [{"type": "image", "name": "glance", "urls": {
   "public": "http://$HOST:$GLANCE_PORT", "internal": "http://$HOST:$GLANCE_PORT", "admin": "http://$HOST:$GLANCE_PORT"}}]}
EOF
  )
  "$PY" "$HERE/ks_seed.py" "$AUTH_URL" "$ADMIN_PASS" "$spec" >"$GL/seeded.tmp" 2>>"$LOG/ks_seed.log" ||
    die "registering Glance in Keystone failed; see $LOG/ks_seed.log"
  mv "$GL/seeded.tmp" "$GL/seeded"
  stamp glance "user glance and the image service registered in Keystone"
}

up_glance() {
  need keystone
  need memcached
  local url=http://$HOST:$GLANCE_PORT
  if running glance "$GL_PAT" && http_ok "$url/healthcheck"; then
    stamp glance "already up on $url"
    return 0
  fi
  stop_pid glance "$GL_PAT" >/dev/null
  port_open "$GLANCE_PORT" && die "port $GLANCE_PORT is taken by a process we did not start"
  command -v glance-api >/dev/null || die "glance-api is not installed (tools/testenv/install.sh)"
  glance_conf
  sql -e "CREATE DATABASE IF NOT EXISTS glance_fz CHARACTER SET utf8mb4"
  sql -e "GRANT ALL PRIVILEGES ON \`glance_fz\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost'"
  own_database glance_fz
  if [[ ! -f $GL/.synced ]]; then
    glance-manage --config-file "$GL/glance-api.conf" db_sync >>"$LOG/glance-manage.log" 2>&1 ||
      die "glance-manage db_sync failed; see $LOG/glance-manage.log"
    touch "$GL/.synced"
    stamp glance "database glance_fz synced"
  fi
  glance_seed
  spawn glance glance-api --config-file "$GL/glance-api.conf"
  wait_until 60 "glance-api on $url" http_ok "$url/healthcheck" ||
    die "glance-api did not answer; see $LOG/glance-api.log"
  stamp glance "up on $url (file store $GL/images, pid $(pid_of glance))"
}

# ------------------------------------------------------------ env file
# Written atomically and only when its content changes.
write_env() {
  local ids=$KS/ids.env
  [[ -s $ids ]] || return 0
  local tmp=$ENV_FILE.tmp.$$
  {
    echo "# written by tools/testenv/up.sh; keys: see internal/testutil/testenv"
    echo "OS_AUTH_URL=$AUTH_URL"
    echo "OS_REGION_NAME=$REGION"
    local u pw
    for u in ADMIN DEMO OTHER; do
      case $u in ADMIN) pw=$ADMIN_PASS ;; DEMO) pw=$DEMO_PASS ;; OTHER) pw=$OTHER_PASS ;; esac
      echo "${u}_OS_USERNAME=${u,,}"
      echo "${u}_OS_PASSWORD=$pw"
      echo "${u}_OS_PROJECT_NAME=${u,,}"
      echo "${u}_OS_USER_DOMAIN_NAME=Default"
      echo "${u}_OS_PROJECT_DOMAIN_NAME=Default"
    done
    grep -E '^(ADMIN|DEMO|OTHER)_OS_(PROJECT|USER)_ID=' "$ids"
    echo "FREEZER_SVC_USERNAME=freezer"
    echo "FREEZER_SVC_PASSWORD=$FREEZER_SVC_PASS"
    echo "FREEZER_SVC_PROJECT_NAME=service"
    echo "SWIFT_URL=http://$HOST:$SWIFT_PROXY_PORT"
    echo "S3_ENDPOINT=http://$HOST:$SWIFT_PROXY_PORT"
    echo "S3_REGION=$S3_REGION"
    grep -E '^(DEMO|OTHER)_S3_(ACCESS|SECRET)_KEY=' "$ids"
    echo "SSH_HOST=$HOST"
    echo "SSH_PORT=$SSH_PORT"
    echo "SSH_USER=$SSH_USER"
    echo "SSH_KEY=$SSHD/fzbackup_key"
    echo "SSH_KNOWN_HOSTS=$SSHD/known_hosts"
    echo "SSH_CONTAINER=/home/$SSH_USER/backups"
    echo "FTP_HOST=$HOST"
    echo "FTP_PORT=$FTP_PORT"
    echo "FTPS_PORT=$FTPS_PORT"
    echo "FTP_USER=$FTP_USER"
    echo "FTP_PASS=$FTP_PASS"
    echo "FTP_CONTAINER=/home/$FTP_USER/backups"
    echo "FTPS_CACERT=$FTPD/ftps-cert.pem"
    echo "MYSQL_HOST=$HOST"
    echo "MYSQL_PORT=$MYSQL_PORT"
    echo "MYSQL_USER=root"
    echo "MYSQL_PASSWORD="
    echo "MYSQL_DSN=root@tcp($HOST:$MYSQL_PORT)/"
    echo "FREEZER_API_PORT_PY=$FREEZER_API_PY_PORT"
    echo "GLANCE_URL=http://$HOST:$GLANCE_PORT"
    echo "BACKUP_URL=http://$HOST:$BACKUP_PORT"
    echo "PYTHON_FREEZER_AGENT=/usr/bin/freezer-agent"
    echo "PYTHON_FREEZER_CLI=/usr/bin/freezer"
  } >"$tmp"
  if cmp -s "$tmp" "$ENV_FILE"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$ENV_FILE"
    stamp up.sh "wrote $ENV_FILE"
  fi
}

# ------------------------------------------------------------------ main
main() {
  local comps=() c
  (($# == 0)) && set -- all
  for c in "$@"; do
    case $c in
    all) comps+=("${ALL[@]}") ;;
    mariadb | keystone | memcached | swift | s3 | sshd | ftp | freezer-api-py | glance) comps+=("$c") ;;
    -h | --help) usage ;;
    *) echo "up.sh: unknown component '$c'" >&2 && usage ;;
    esac
  done
  for c in "${comps[@]}"; do
    need "$c"
  done
  write_env
  stamp up.sh "done: $*"
}

main "$@"
