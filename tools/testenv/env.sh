#!/usr/bin/env bash
# Prints `export` lines for one identity of the test environment, so that
# a human can work against it:
#   eval "$(tools/testenv/env.sh demo)"; openstack container list
# USER is admin, demo (default), other, or freezer (freezer-api's service
# user). Besides OS_* it exports OS_BACKUP_URL/OS_BACKUP_API_VERSION for
# the freezer CLI, the S3 endpoint and the user's EC2 keys (demo, other), and
# the SFTP and FTP settings. Values come from the file up.sh writes.
# Sourcing also works: `source tools/testenv/env.sh other`.

_fzenv_main() {
  local user=${1:-demo}
  local file=${FREEZER_TESTENV_ROOT:-/var/tmp/freezer-testenv}/testenv.env
  if [[ ! -r $file ]]; then
    echo "env.sh: $file not found; run tools/testenv/up.sh first" >&2
    return 1
  fi
  local -A v=()
  local k val
  while IFS='=' read -r k val; do
    [[ -z $k || $k == \#* ]] && continue
    v[$k]=$val
  done <"$file"

  local U
  case $user in
  admin | demo | other) U=${user^^} ;;
  freezer) U="" ;;
  *)
    echo "usage: env.sh [admin|demo|other|freezer]" >&2
    return 2
    ;;
  esac

  local -a out=()
  out+=("OS_AUTH_URL=${v[OS_AUTH_URL]}" "OS_REGION_NAME=${v[OS_REGION_NAME]}"
    OS_IDENTITY_API_VERSION=3 OS_INTERFACE=public OS_AUTH_TYPE=password)
  if [[ -n $U ]]; then
    out+=("OS_USERNAME=${v[${U}_OS_USERNAME]}" "OS_PASSWORD=${v[${U}_OS_PASSWORD]}"
      "OS_PROJECT_NAME=${v[${U}_OS_PROJECT_NAME]}"
      "OS_USER_DOMAIN_NAME=${v[${U}_OS_USER_DOMAIN_NAME]}"
      "OS_PROJECT_DOMAIN_NAME=${v[${U}_OS_PROJECT_DOMAIN_NAME]}")
  else
    out+=("OS_USERNAME=${v[FREEZER_SVC_USERNAME]}" "OS_PASSWORD=${v[FREEZER_SVC_PASSWORD]}"
      "OS_PROJECT_NAME=${v[FREEZER_SVC_PROJECT_NAME]}"
      OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default)
  fi
  out+=("OS_BACKUP_URL=${v[BACKUP_URL]}" OS_BACKUP_API_VERSION=2
    "S3_ENDPOINT=${v[S3_ENDPOINT]}" "S3_REGION=${v[S3_REGION]}")
  if [[ $U == DEMO || $U == OTHER ]]; then
    out+=("S3_ACCESS_KEY=${v[${U}_S3_ACCESS_KEY]}" "S3_SECRET_KEY=${v[${U}_S3_SECRET_KEY]}")
  fi
  for k in SSH_HOST SSH_PORT SSH_USER SSH_KEY SSH_KNOWN_HOSTS SSH_CONTAINER \
    FTP_HOST FTP_PORT FTPS_PORT FTP_USER FTP_PASS FTP_CONTAINER FTPS_CACERT; do
    out+=("$k=${v[$k]}")
  done
  local kv
  for kv in "${out[@]}"; do
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  _fzenv_main "$@"
else
  _fzenv_out=$(_fzenv_main "$@") && eval "$_fzenv_out"
  unset _fzenv_out
  unset -f _fzenv_main
fi
