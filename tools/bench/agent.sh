#!/usr/bin/env bash
# Section "agent" of `make bench`: full backup, 1 % mutation then
# incremental, and restore of the latest state, to local storage, for
#   ours-zstd  our freezer-agent, zstd + fzae1 (the defaults)
#   ours-gzip  our freezer-agent, gzip + --encryption-format openssl
#   ours-plain our freezer-agent, zstd, no encryption: its restore is the
#              staged one (files renamed into place once the level's sha256
#              checks), where ours-zstd's fzae1 restore writes in place
#   pipeline   tar --listed-incremental | zstd -1 -T0 | openssl enc -aes-256-ctr
#              (restore: openssl enc -d | zstd -dc | tar -x --listed-incremental)
#   python     the upstream freezer-agent (Debian python3-freezer), gzip +
#              --encrypt-pass-file (its aes-256-cfb)
# all in this one run, on one generated tree (tools/bench/mkdata).
# Called by run.sh with WORK, LOGDIR, DATA, BUILD and the BENCH_* knobs set;
# prints the section's table on stdout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

SCALE=${BENCH_SCALE:-1}
REPS=${BENCH_REPS:-2}
PY=${PYTHON_FREEZER_AGENT:-/usr/bin/freezer-agent}
need_cmd tar zstd openssl diff
[[ -x $PY ]] || die "$PY missing (apt-get install python3-freezer)"

W=$WORK/agent
rm -rf "$W"
mkdir -p "$W"
SRC=$W/src
KEY=$W/key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KEY"
echo >>"$KEY"

echo "agent: generating the tree (scale $SCALE)" >&2
"$MKDATA" full --out "$SRC" --scale "$SCALE" >&2
BYTES0=$(tree_bytes "$SRC")
FILES0=$(tree_files "$SRC")

# The Python agent wants a Keystone URL even for local storage; it is
# never contacted. Its Python warnings would only clutter the logs.
PYENV=(env OS_AUTH_URL=http://127.0.0.1:1/v3 PYTHONWARNINGS=ignore "$PY")

agent_args() { # TOOL REPO
  local a=(--storage local --container "$2" --backup-name bench --hostname bench
    --max-level 7 --encrypt-pass-file "$KEY")
  case $1 in
  ours-zstd) a+=(--compression zstd) ;;
  ours-gzip) a+=(--compression gzip --encryption-format openssl) ;;
  python) a+=(--compression gzip) ;;
  esac
  if [[ $1 == ours-plain ]]; then
    a=("${a[@]:0:${#a[@]}-2}" --compression zstd) # drop --encrypt-pass-file
  fi
  printf '%s\n' "${a[@]}"
}

# repo_size TOOL LABEL records the bytes in TOOL's repository after LABEL.
repo_size() { echo "$2 $(du -sb "$W/repo-$1" | cut -f1)" >>"$W/sizes"; }

# backup TOOL LABEL LEVEL
backup() {
  local tool=$1 label=$2 level=$3 repo=$W/repo-$1
  if [[ $tool == pipeline ]]; then
    local snar=$repo/snar.$level
    if ((level == 0)); then
      rm -rf "$repo"
      mkdir -p "$repo"
    else
      cp "$repo/snar.$((level - 1))" "$snar"
    fi
    rm -f "$repo/out.$level"
    # shellcheck disable=SC2016 # expanded by the inner bash
    measure "$label" bash -c 'set -o pipefail
      tar -C "$1" --listed-incremental="$2" -cf - . | zstd -1 -T0 -q | openssl enc -aes-256-ctr -pbkdf2 -pass file:"$3" >"$4"' \
      _ "$SRC" "$snar" "$KEY" "$repo/out.$level"
    repo_size "$tool" "$label"
    return
  fi
  ((level == 0)) && rm -rf "$repo"
  local args
  mapfile -t args < <(agent_args "$tool" "$repo")
  if [[ $tool == python ]]; then
    measure "$label" "${PYENV[@]}" --action backup --path-to-backup "$SRC" "${args[@]}"
  else
    measure "$label" "$BUILD/freezer-agent" --action backup --path-to-backup "$SRC" "${args[@]}"
  fi
  repo_size "$tool" "$label"
}

# restore TOOL LABEL: the latest state into an empty directory, verified.
restore() {
  local tool=$1 label=$2 repo=$W/repo-$1 dst=$RESTORE_BASE/freezer-bench-restore.$$
  rm -rf "$dst"
  mkdir -p "$dst"
  if [[ $tool == pipeline ]]; then
    local files=() l
    for ((l = 0; l <= LEVEL; l++)); do files+=("$repo/out.$l"); done
    # shellcheck disable=SC2016 # expanded by the inner bash
    measure "$label" bash -c 'set -o pipefail; d=$1 k=$2; shift 2
      for f; do openssl enc -d -aes-256-ctr -pbkdf2 -pass file:"$k" -in "$f" | zstd -dc -q | tar -C "$d" --listed-incremental=/dev/null -xf - || exit 1; done' \
      _ "$dst" "$KEY" "${files[@]}"
  else
    local args
    mapfile -t args < <(agent_args "$tool" "$repo")
    if [[ $tool == python ]]; then
      measure "$label" "${PYENV[@]}" --action restore --restore-abs-path "$dst" "${args[@]}"
    else
      measure "$label" "$BUILD/freezer-agent" --action restore --restore-abs-path "$dst" "${args[@]}"
    fi
  fi
  verify_same "$SRC" "$dst"
  rm -rf "$dst"
}

# Pairs compared in the report: (ours-zstd, pipeline), (ours-gzip,
# python) and (ours-plain, ours-zstd: staged against in-place restore).
# Each repetition swaps the order inside the pairs.
order() { # REP
  if (($1 % 2)); then echo ours-zstd pipeline ours-gzip python ours-plain; else echo pipeline ours-zstd python ours-gzip ours-plain; fi
}

# Warm the page cache with the source once, so the first run does not pay
# for reading it from disk (mkdata has just written it; this only makes sure).
tar -C "$SRC" -cf - . | cat >/dev/null

echo "agent: full backups ($REPS rounds)" >&2
for ((r = 1; r <= REPS; r++)); do
  for t in $(order "$r"); do backup "$t" "full.$t#$r" 0; done
done

echo "agent: 1 % mutation then incremental ($REPS generations)" >&2
LEVEL=0
for ((r = 1; r <= REPS; r++)); do
  "$MKDATA" mutate --out "$SRC" --gen "$r" >&2
  LEVEL=$r
  # The Python agent names backups by the second: keep them apart.
  sleep 1
  for t in $(order "$r"); do backup "$t" "incr.$t#$r" "$LEVEL"; done
done
BYTES1=$(tree_bytes "$SRC")
FILES1=$(tree_files "$SRC")

RESTORE_BASE=$(restore_base "$BYTES1" "$W")
prefault "$RESTORE_BASE" "$BYTES1"
trap 'rm -rf "$RESTORE_BASE/freezer-bench-restore.$$"' EXIT
echo "agent: restore of the latest state, level 0 + $LEVEL incrementals ($REPS rounds, each verified with diff -r)" >&2
for ((r = 1; r <= REPS; r++)); do
  for t in $(order "$r"); do restore "$t" "restore.$t#$r"; done
done

# ------------------------------------------------------------------ report
# stored STEP TOOL: MB in the repository after the last full backup, or the
# mean MB added per incremental (each incremental follows the last full).
stored() {
  case $1 in
  full) awk -v t="$2" '$1 ~ "^full\\."t"#" { v = $2 } END { printf "%.1f\n", v / 1e6 }' "$W/sizes" ;;
  incr) awk -v t="$2" '$1 ~ "^full\\."t"#" { prev = $2 } $1 ~ "^incr\\."t"#" { s += $2 - prev; prev = $2; n++ }
          END { printf "%.1f\n", n ? s / n / 1e6 : 0 }' "$W/sizes" ;;
  *) echo - ;;
  esac
}

tools=(ours-zstd ours-gzip ours-plain pipeline python)
{
  echo "== agent, local storage =="
  printf 'tree: scale %s, %s files, %.2f GB (%.2f GiB) for full backups; %s files, %.2f GB after %d mutations (restore)\n' \
    "$SCALE" "$FILES0" "$(awk -v b="$BYTES0" 'BEGIN{print b/1e9}')" "$(awk -v b="$BYTES0" 'BEGIN{print b/2^30}')" \
    "$FILES1" "$(awk -v b="$BYTES1" 'BEGIN{print b/1e9}')" "$LEVEL"
  echo "method: $REPS rounds per step; each round alternates the order inside the pairs (ours-zstd|pipeline, ours-gzip|python);"
  echo "  'sync' before every timed run (outside the timing) so no run pays for another's write-back; data read from the page cache"
  echo "  (the tree is read once before the first run); fresh repository per full backup; restores into an empty directory"
  echo "  on $(stat -f -c %T "$RESTORE_BASE") ($RESTORE_BASE), each"
  echo "  verified identical with diff -r (outside the timing). Wall = median of the rounds; MB/s = tree bytes / wall (1 MB = 10^6 B);"
  echo "  CPU = median user+sys; peak RSS = largest single process, max over rounds (GNU time)."
  echo "  Stored MB: the repository after the full backup; for incr, what each incremental added (mean of the rounds)."
  printf '%-8s %-10s %-18s %9s %8s %8s %9s %10s\n' step tool "wall s (rounds)" "median s" "MB/s" "CPU s" "RSS MiB" "stored MB"
  for step in full incr restore; do
    for t in "${tools[@]}"; do
      b=$BYTES0
      [[ $step == restore ]] && b=$BYTES1
      w=$(median_of "$step.$t" 2)
      m=$(mbps "$b" "$w")
      [[ $step == incr ]] && m=-
      printf '%-8s %-10s %-18s %9.2f %8s %8.2f %9s %10s\n' "$step" "$t" "$(runs_of "$step.$t")" "$w" "$m" \
        "$(median_of "$step.$t" 3)" "$(max_rss_mib "$step.$t")" "$(stored "$step" "$t")"
    done
  done
  fz=$(median_of full.ours-zstd 2) fg=$(median_of full.ours-gzip 2) fp=$(median_of full.pipeline 2) fy=$(median_of full.python 2)
  iz=$(median_of incr.ours-zstd 2) ig=$(median_of incr.ours-gzip 2) iy=$(median_of incr.python 2) ip=$(median_of incr.pipeline 2)
  rz=$(median_of restore.ours-zstd 2) rg=$(median_of restore.ours-gzip 2) rp=$(median_of restore.pipeline 2) ry=$(median_of restore.python 2)
  rn=$(median_of restore.ours-plain 2)
  rss=0
  for s in full incr restore; do for t in ours-zstd ours-gzip; do
    v=$(max_rss_mib "$s.$t")
    ((v > rss)) && rss=$v
  done; done
  echo "ratios (throughput ratios = inverse wall-time ratios on the same bytes):"
  x=$(ratio "$fp" "$fz"); printf '  full, ours-zstd / pipeline throughput      %6sx  (target >= 1.0x: %s)\n' "$x" "$(verdict "$x" '>=' 1.0)"
  x=$(ratio "$fy" "$fz"); printf '  full, ours-zstd / python throughput        %6sx  (target >= 8x: %s)\n' "$x" "$(verdict "$x" '>=' 8)"
  x=$(ratio "$fy" "$fg"); printf '  full, ours-gzip / python throughput        %6sx  (target >= 3.0x: %s)\n' "$x" "$(verdict "$x" '>=' 3.0)"
  x=$(ratio "$iz" "$iy"); printf '  incremental time, ours-zstd / python       %6sx  (target <= 0.5x: %s)\n' "$x" "$(verdict "$x" '<=' 0.5)"
  x=$(ratio "$ig" "$iy"); printf '  incremental time, ours-gzip / python       %6sx  (target <= 0.5x: %s)\n' "$x" "$(verdict "$x" '<=' 0.5)"
  x=$(ratio "$iz" "$ip"); printf '  incremental time, ours-zstd / pipeline     %6sx  (no target)\n' "$x"
  x=$(ratio "$rp" "$rz"); printf '  restore, ours-zstd / reverse pipeline      %6sx  (target >= 1.0x: %s)\n' "$x" "$(verdict "$x" '>=' 1.0)"
  x=$(ratio "$ry" "$rg"); printf '  restore, ours-gzip / python                %6sx  (no target)\n' "$x"
  x=$(ratio "$rn" "$rz"); printf '  restore time, ours-plain (staged) / ours-zstd (in place) %6sx  (no target; zstd work is the same, fzae1 decryption only in ours-zstd)\n' "$x"
  printf '  peak RSS, ours (any step)                  %6s MiB (target <= 100 MiB: %s); python %s MiB, pipeline %s MiB\n' \
    "$rss" "$(verdict "$rss" '<=' 100)" "$(max_rss_mib full.python)" "$(max_rss_mib full.pipeline)"
}
