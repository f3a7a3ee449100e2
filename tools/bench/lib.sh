# shellcheck shell=bash
# Shared helpers for tools/bench/*.sh (sourced, not run).
#
# measure LABEL CMD... runs CMD once under /usr/bin/time and appends
# "LABEL wall_s cpu_s maxrss_kib services_cpu_s" to $DATA. Wall time comes from bash's
# EPOCHREALTIME (µs); CPU and peak RSS from getrusage of the children as
# reported by GNU time: the RSS is that of the largest single process of
# the command (a pipeline's biggest stage, the Python agent or one of the
# tar/gzip/openssl processes it starts), the same definition as the
# reference figures. services_cpu_s is the CPU time that the processes
# whose command line matches $BENCH_SERVICES (an extended regex for pgrep
# -f; none when empty) used during the run: the storage servers that share
# the machine's cores with the agent. Before each run: `sync`, so a run
# never pays for the write-back of the previous one. A failing command
# stops the section with its stderr tail; its numbers are never recorded.

die() {
  echo "bench: $*" >&2
  exit 1
}

need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || die "$c is missing (apt-get install -y --no-install-recommends $c)"
  done
}

# load_testenv exports the KEY=VALUE lines of the test environment file.
load_testenv() {
  local envf=${FREEZER_TESTENV_ROOT:-/var/tmp/freezer-testenv}/testenv.env
  [[ -r $envf ]] || die "$envf missing: run make testenv-up"
  local k v
  while IFS='=' read -r k v; do
    [[ $k =~ ^[A-Z_][A-Z0-9_]*$ ]] && export "$k=$v"
  done < <(grep -E '^[A-Z_][A-Z0-9_]*=' "$envf")
}

# demo_os_env exports the OS_* variables of the demo user, as the agents
# (ours and the Python one) read them.
demo_os_env() {
  export OS_USERNAME=$DEMO_OS_USERNAME OS_PASSWORD=$DEMO_OS_PASSWORD \
    OS_PROJECT_NAME=$DEMO_OS_PROJECT_NAME OS_PROJECT_ID=$DEMO_OS_PROJECT_ID \
    OS_USER_DOMAIN_NAME=$DEMO_OS_USER_DOMAIN_NAME \
    OS_PROJECT_DOMAIN_NAME=$DEMO_OS_PROJECT_DOMAIN_NAME \
    OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=${OS_REGION_NAME:-RegionOne}
}

# service_ticks prints the CPU time (clock ticks, user + system) used so
# far by the processes matching $BENCH_SERVICES; 0 when it is empty.
service_ticks() {
  local p sum=0 f
  [[ -n ${BENCH_SERVICES:-} ]] || {
    echo 0
    return
  }
  for p in $(pgrep -f -- "$BENCH_SERVICES" || true); do
    # Fields after the command name, which may hold spaces: utime is the
    # 12th, stime the 13th.
    f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a f <<<"$f"
    sum=$((sum + ${f[11]:-0} + ${f[12]:-0}))
  done
  echo "$sum"
}

measure() {
  local label=$1
  shift
  sync
  local tf=$LOGDIR/$label.time t0 t1 s0 s1 rc=0
  s0=$(service_ticks)
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%U %S %M' -o "$tf" "$@" >"$LOGDIR/$label.out" 2>"$LOGDIR/$label.err" || rc=$?
  t1=$EPOCHREALTIME
  s1=$(service_ticks)
  if ((rc != 0)); then
    echo "bench: $label FAILED (exit $rc): $*" >&2
    tail -n 20 "$LOGDIR/$label.err" >&2
    exit 1
  fi
  local u s m
  read -r u s m < <(tail -n 1 "$tf")
  [[ $m =~ ^[0-9]+$ ]] || die "$label: cannot read GNU time output in $tf"
  awk -v l="$label" -v a="$t0" -v b="$t1" -v u="$u" -v s="$s" -v m="$m" -v sv=$((s1 - s0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%s %.3f %.2f %d %.2f\n", l, b - a, u + s, m, sv / hz }' >>"$DATA"
  printf '  %-28s %8.2f s  %6d MiB\n' "$label" "$(tail -n 1 "$DATA" | cut -d' ' -f2)" $((m / 1024)) >&2
}

# tree_bytes DIR prints the total size of the regular files under DIR.
tree_bytes() {
  find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'
}

tree_files() {
  find "$1" -type f | wc -l
}

# verify_same SRC DST fails the section when a restore differs.
verify_same() {
  diff -r -q --no-dereference "$1" "$2" >"$LOGDIR/diff.out" 2>&1 ||
    die "restore into $2 differs from $1: $(head -n 5 "$LOGDIR/diff.out")"
}

# stat_of PREFIX FIELD prints the median (field 2 wall, 3 cpu) or the max
# (field 4 rss, in MiB) over the runs whose label starts with PREFIX.
median_of() {
  awk -v p="$1" -v f="$2" '$1 ~ "^"p"(#[0-9]+)?$" { v[n++] = $f }
    END { if (n == 0) { print "NA"; exit }
          asort(v); if (n % 2) m = v[(n + 1) / 2]; else m = (v[n / 2] + v[n / 2 + 1]) / 2
          printf "%.3f\n", m }' "$DATA"
}

max_rss_mib() {
  awk -v p="$1" '$1 ~ "^"p"(#[0-9]+)?$" { if ($4 > m) m = $4; n++ }
    END { if (n == 0) print "NA"; else printf "%.0f\n", m / 1024 }' "$DATA"
}

runs_of() {
  awk -v p="$1" '$1 ~ "^"p"(#[0-9]+)?$" { printf "%s%.2f", (n++ ? "/" : ""), $2 } END { print "" }' "$DATA"
}

# ratio A B [digits] prints A/B.
ratio() {
  awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA"; else printf "%." d "f\n", a / b }'
}

# verdict VALUE OP TARGET prints "met" or "NOT met".
verdict() {
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (v == "NA") { print "n/a"; exit }
    ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)
    print ok ? "met" : "NOT met" }'
}

mbps() {
  awk -v b="$1" -v s="$2" 'BEGIN { if (s == "NA" || s == 0) print "NA"; else printf "%.1f\n", b / 1e6 / s }'
}

# restore_base BYTES FALLBACK: the directory restores go into. Restores go
# to tmpfs when there is one with room for three times BYTES
# (BENCH_RESTORE_DIR overrides; FALLBACK otherwise): this measures the
# agents, not the disk. On the VM disk (ext4 mounted with discard)
# deleting one restore's files slowed the next restore from 3 s to 18 s,
# whichever tool made it.
restore_base() {
  if [[ -n ${BENCH_RESTORE_DIR:-} ]]; then
    echo "$BENCH_RESTORE_DIR"
  elif [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]] &&
    (($(df -k --output=avail /dev/shm | tail -n 1) > 3 * $1 / 1024)); then
    echo /dev/shm
  else
    echo "$2"
  fi
}

# prefault DIR BYTES: on tmpfs, write and delete BYTES of zeros in DIR
# (outside any timing), so that the kernel reclaims the page cache the
# bench itself filled before the first timed restore, not during it. The
# first restore of a section otherwise took 8.3-8.8 s and the same restore
# in the next round 4.5-4.8 s, whichever tool came first.
prefault() {
  [[ $(stat -f -c %T "$1") == tmpfs ]] || return 0
  head -c "$2" /dev/zero >"$1/freezer-bench-prefault.$$"
  rm -f "$1/freezer-bench-prefault.$$"
}
