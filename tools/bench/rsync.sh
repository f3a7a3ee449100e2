#!/usr/bin/env bash
# Section "rsync" of `make bench`: block-level incrementals of one large
# VM-image-like file (random extents and holes, tools/bench/mkdata image),
# to local storage. A level 0, then two changes, each backed up as a level 1
# against that level 0 (--always-level 1):
#   rewrite  1 % of the file's 4 KiB blocks rewritten at random offsets
#   append   the file as at level 0 plus BENCH_RSYNC_APPEND_MIB appended
# by
#   ours-rsync  our freezer-agent --engine rsyncv2 (zstd + fzae1)
#   ours-tar    our freezer-agent --engine tar (zstd + fzae1): stores the
#               whole file again, printed for scale
#   restic      restic backup (repository v2: compressed, encrypted)
#   borg        borg create (repokey encryption, lz4)
# in this one run. Each level 1 starts with the page cache dropped, as does
# the cold read of the file (cat) it is compared with. Then the peak RSS of
# our rsync backup (levels 0 and 1) and restore (both levels), at
# BENCH_RSYNC_GIB and BENCH_RSYNC_GIB2.
# Knobs: BENCH_RSYNC_GIB (4), BENCH_RSYNC_GIB2 (1; "" skips the second
# point), BENCH_RSYNC_APPEND_MIB (64).
# Called by run.sh with WORK, LOGDIR, DATA, BUILD, MKDATA set; prints the
# section's table on stdout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

GIB=${BENCH_RSYNC_GIB:-4}
GIB2=${BENCH_RSYNC_GIB2-1}
APPEND_MIB=${BENCH_RSYNC_APPEND_MIB:-64}
need_cmd restic borg cmp
W=$WORK/rsync
rm -rf "$W"
mkdir -p "$W"
KEY=$W/key
echo bench-rsync-passphrase >"$KEY"
export RESTIC_PASSWORD=bench-rsync-passphrase BORG_PASSPHRASE=bench-rsync-passphrase
export RESTIC_CACHE_DIR=$W/restic-cache BORG_BASE_DIR=$W/borg-home

DROP=yes
[[ -w /proc/sys/vm/drop_caches ]] || DROP=no
drop_caches() {
  sync
  if [[ $DROP == yes ]]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

mib_of() { awk -v g="$1" 'BEGIN { printf "%.3f\n", g * 1024 }'; }

TOOLS=(ours-rsync ours-tar restic borg)

# backup TOOL LABEL SRC: one backup of SRC into TOOL's repository, timed
# (label LABEL), the repository's growth recorded in $W/sizes.
backup() {
  local tool=$1 label=$2 src=$3 repo=$W/repo-$1 before after
  before=$(du -sb "$repo" 2>/dev/null | cut -f1 || echo 0)
  case $tool in
  ours-rsync | ours-tar)
    measure "$label" "$BUILD/freezer-agent" --action backup --path-to-backup "$src" \
      --engine "${tool#ours-}" --storage local --container "$repo" --backup-name bench --hostname bench \
      --compression zstd --encrypt-pass-file "$KEY" --always-level 1
    ;;
  restic)
    measure "$label" restic -r "$repo" backup --quiet --host bench "$src"
    ;;
  borg)
    measure "$label" borg create "$repo::$label" "$src"
    ;;
  esac
  after=$(du -sb "$repo" | cut -f1)
  echo "$label $((after - ${before:-0}))" >>"$W/sizes"
}

init_repos() {
  local t
  for t in "${TOOLS[@]}"; do rm -rf "$W/repo-$t"; done
  restic -r "$W/repo-restic" init --repository-version 2 >"$LOGDIR/restic-init.out" 2>&1 || die "restic init failed: $(tail -n 3 "$LOGDIR/restic-init.out")"
  borg init --encryption repokey "$W/repo-borg" >"$LOGDIR/borg-init.out" 2>&1 || die "borg init failed: $(tail -n 3 "$LOGDIR/borg-init.out")"
}

stored_of() { awk -v l="$1" '$1 == l { print $2 }' "$W/sizes"; }

# restore_ours SIZE: our chain into an empty directory, timed, compared.
restore_ours() {
  local sz=$1 dst=$W/restore
  rm -rf "$dst"
  measure "restore.ours-rsync@$sz" "$BUILD/freezer-agent" --action restore --restore-abs-path "$dst" \
    --engine rsyncv2 --storage local --container "$W/repo-ours-rsync" --backup-name bench --hostname bench \
    --encrypt-pass-file "$KEY"
  cmp -s "$W/src/disk.img" "$dst/disk.img" || die "restore of the $sz GiB chain differs from the source"
  rm -rf "$dst"
}

# ---- the comparison, at GIB ----
SRC=$W/src
mkdir -p "$SRC"
IMG_MIB=$(mib_of "$GIB")
echo "rsync: generating a $GIB GiB image" >&2
"$MKDATA" image --out "$SRC/disk.img" --mib "$IMG_MIB" >&2
FILE_BYTES=$(stat -c %s "$SRC/disk.img")
FILE_ALLOC=$(du -B1 "$SRC/disk.img" | cut -f1)
init_repos

# Three cold reads, the median kept: the first read after the image was
# written ran 4x slower than the next ones in one run here.
for i in 1 2 3; do
  drop_caches
  measure "cold-read$([[ $i == 1 ]] || echo "#$i")" cat "$SRC/disk.img"
done

echo "rsync: level 0 by each tool" >&2
for t in "${TOOLS[@]}"; do backup "$t" "l0.$t@$GIB" "$SRC"; done

echo "rsync: 1 % of the blocks rewritten, level 1 by each tool (page cache dropped before each)" >&2
"$MKDATA" rewrite --out "$SRC/disk.img" --percent 1 >&2
for t in "${TOOLS[@]}"; do
  drop_caches
  backup "$t" "rewrite.$t" "$SRC"
done
restore_ours "$GIB"

echo "rsync: the level-0 file plus $APPEND_MIB MiB, level 1 by each tool" >&2
"$MKDATA" image --out "$SRC/disk.img" --mib "$IMG_MIB" >&2
"$MKDATA" append --out "$SRC/disk.img" --mib "$APPEND_MIB" >&2
for t in "${TOOLS[@]}"; do
  drop_caches
  backup "$t" "append.$t" "$SRC"
done

# ---- peak RSS of ours at GIB2 ----
if [[ -n $GIB2 ]]; then
  echo "rsync: peak RSS at $GIB2 GiB" >&2
  rm -rf "$W/repo-ours-rsync" "$SRC"
  mkdir -p "$SRC"
  "$MKDATA" image --out "$SRC/disk.img" --mib "$(mib_of "$GIB2")" >&2
  backup ours-rsync "l0.ours-rsync@$GIB2" "$SRC"
  "$MKDATA" rewrite --out "$SRC/disk.img" --percent 1 >&2
  backup ours-rsync "l1.ours-rsync@$GIB2" "$SRC"
  restore_ours "$GIB2"
fi

# ---- the table ----
COLD=$(median_of cold-read 2)
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", 100 * a / b }'; }
{
  printf '== rsync: level 1 of a %s GiB VM-image-like file (%s GiB allocated, the rest holes), local storage ==\n' \
    "$GIB" "$(awk -v b="$FILE_ALLOC" 'BEGIN { printf "%.2f", b / 2^30 }')"
  if [[ $DROP == yes ]]; then
    printf 'cold read (cat, page cache dropped): %s s (runs %s)\n' "$COLD" "$(runs_of cold-read)"
  else
    printf 'cold read (cat): %s s -- NOT cold: cannot drop the page cache (not root); every time below is warm\n' "$COLD"
  fi
  printf '%-8s %-11s %9s %8s %11s %10s %9s\n' change tool "level-1 s" "x cold" "stored MiB" "% of file" "RSS MiB"
  for c in rewrite append; do
    for t in "${TOOLS[@]}"; do
      w=$(median_of "$c.$t" 2)
      s=$(stored_of "$c.$t")
      printf '%-8s %-11s %9.2f %8s %11.1f %10s %9s\n' "$c" "$t" "$w" "$(ratio "$w" "$COLD")" \
        "$(awk -v s="$s" 'BEGIN { print s / 2^20 }')" "$(pct "$s" "$FILE_BYTES")" "$(max_rss_mib "$c.$t")"
    done
  done
  echo "targets (ours-rsync):"
  for c in rewrite append; do
    w=$(median_of "$c.ours-rsync" 2)
    printf '  %-8s stored <= 2 %% of the file: %s; time <= 2x cold read: %s; faster than restic: %s, than borg: %s\n' "$c" \
      "$(verdict "$(pct "$(stored_of "$c.ours-rsync")" "$FILE_BYTES")" "<=" 2)" \
      "$(verdict "$(ratio "$w" "$COLD")" "<=" 2)" \
      "$(verdict "$(ratio "$w" "$(median_of "$c.restic" 2)")" "<=" 1)" \
      "$(verdict "$(ratio "$w" "$(median_of "$c.borg" 2)")" "<=" 1)"
  done
  echo "peak RSS of ours-rsync (MiB; target <= 128):"
  printf '  %-6s %10s %10s %10s %10s %7s\n' GiB "backup l0" "backup l1" restore "restore s" target
  for g in "$GIB" $GIB2; do
    if [[ $g == "$GIB" ]]; then l1=rewrite.ours-rsync; else l1=l1.ours-rsync@$g; fi
    a=$(max_rss_mib "l0.ours-rsync@$g")
    b=$(max_rss_mib "$l1")
    r=$(max_rss_mib "restore.ours-rsync@$g")
    m=$(printf '%s\n' "$a" "$b" "$r" | sort -n | tail -n 1)
    printf '  %-6s %10s %10s %10s %10.2f %7s\n' "$g" "$a" "$b" "$r" "$(median_of "restore.ours-rsync@$g" 2)" "$(verdict "$m" "<=" 128)"
  done
}
