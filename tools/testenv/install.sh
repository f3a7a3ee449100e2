#!/usr/bin/env bash
# Installs, from Debian packages, everything the integration suite and the
# test environment (tools/testenv/up.sh) need. Idempotent: when every package
# is installed already it returns in well under a second.
#
# Debian services are kept from starting while packages are installed (a
# policy-rc.d that exits 101): up.sh starts its own instances on loopback,
# with its own configs, and a stray system sshd or vsftpd on :22/:21 would
# listen on every interface.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
start=${EPOCHREALTIME/,/.}
elapsed() {
  local now=${EPOCHREALTIME/,/.}
  awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f", b - a }'
}

PACKAGES=(
  # databases and caches
  mariadb-server mariadb-client memcached
  # the agent's mysql hot backup (mariadb-backup, mbstream) and postgresql
  # mode (pg_basebackup; the tests start their own servers), and btrfs
  # snapshots (tests loop-mount a btrfs image)
  mariadb-backup postgresql btrfs-progs
  # Keystone under uwsgi, and the clients used to seed it
  python3-keystone python3-keystonemiddleware python3-keystoneclient
  python3-keystoneauth1 python3-openstackclient python3-pymysql
  uwsgi-core uwsgi-plugin-python3
  # Swift all-in-one with s3api
  swift swift-proxy swift-account swift-container swift-object
  python3-swift python3-swiftclient
  # SFTP and FTP/FTPS servers, S3 clients for manual checks
  openssh-server openssh-client vsftpd s3cmd python3-boto3
  # the upstream Python Freezer, for interoperability tests and benchmarks
  # (python3-freezer ships /usr/bin/freezer-agent)
  python3-freezer freezer-scheduler python3-freezer-api python3-freezerclient
  glance-api python3-glance
  # msgpack decodes our rsync engine_metadata in a unit test, as upstream would
  python3-msgpack
  python3-migrate
  # HAProxy balances several of our freezer-api instances on one database
  # (the scaling test; the test starts its own, on loopback)
  haproxy
  # the Horizon Freezer panel (its API layer drives our API in a test)
  python3-freezer-web-ui
  # the race detector (make test runs -race) links with cgo: a C compiler and libc headers
  gcc libc6-dev
  # time zones (schedule tests across a DST change skip without them)
  tzdata
  # tools used by the build: shell lint, release notes
  shellcheck python3-reno python3-docutils
  # systemd-analyze checks the service units (etc/freezer/systemd)
  systemd
  curl openssl ca-certificates
  # CLIs the unit tests compare our formats with, and GNU time for make bench
  tar gzip bzip2 xz-utils zstd time
  # make bench's rsync section backs the same change up with restic and borg
  restic borgbackup
)

missing=()
for p in "${PACKAGES[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ $st == ii* ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install.sh: all ${#PACKAGES[@]} packages present ($(elapsed)s)"
  exit 0
fi
echo "install.sh: installing ${#missing[@]} packages: ${missing[*]}"

# Keep services from auto-starting; restore whatever policy-rc.d was there.
policy=/usr/sbin/policy-rc.d
saved=""
if [[ -e $policy ]]; then
  saved=$(mktemp)
  cp -p "$policy" "$saved"
fi
restore_policy() {
  if [[ -n $saved ]]; then mv -f "$saved" "$policy"; else rm -f "$policy"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by freezer tools/testenv/install.sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

apt_install() {
  apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold "$@" </dev/null
}
if ! apt_install "${missing[@]}"; then
  echo "install.sh: install failed; refreshing package lists and retrying"
  apt-get update </dev/null
  apt_install "${missing[@]}"
fi
echo "install.sh: done in $(elapsed)s"
