#!/usr/bin/env bash
# Section "db" of `make bench`: how long a --mode mysql backup blocks
# writes. A scratch mariadbd (never the machine's own) runs on a btrfs loop
# mount with BENCH_DB_MB of data (3/4 InnoDB, 1/4 Aria); while each backup
# runs, a writer (tools/bench/dbwriter) commits numbered rows into an
# InnoDB and an Aria table, one transaction each, and reports the longest
# gap between two consecutive commits: the time writes were blocked as a
# client sees it. Methods: FLUSH TABLES WITH READ LOCK + btrfs snapshot
# (--snapshot btrfs; target: < 1 s at 1 GB), and no --snapshot, whose
# default is the mariadb-backup hot backup (--engine stream): with the Aria
# tables there, --mysql-hot-backup-locks auto keeps mariadb-backup's BACKUP
# STAGE locks, whose BLOCK_COMMIT stage holds InnoDB commits too. Then the
# Aria tables are converted to InnoDB (same data size) and the hot backup
# runs again on the InnoDB-only server: auto now drops the locks (target:
# InnoDB writes not blocked), and, for comparison, the same with
# --mysql-hot-backup-locks always. The agent's own lock_seconds is shown
# beside.
# Called by run.sh; needs root (loop mount, mariadbd --user=root).
#
# Knobs: BENCH_DB_MB=1024 (data loaded), BENCH_DB_PORT=3317.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

MB=${BENCH_DB_MB:-1024} PORT=${BENCH_DB_PORT:-3317}
[[ $MB =~ ^[0-9]+$ && $MB -ge 1 ]] || die "BENCH_DB_MB=$MB: want a whole number of MB"
[[ $(id -u) == 0 ]] || die "section db needs root (a loop mount and mariadbd --user=root)"
need_cmd mkfs.btrfs btrfs mount umount mariadbd mariadb-install-db mariadb mariadb-backup mbstream jq
[[ -x $BUILD/freezer-agent ]] || die "$BUILD/freezer-agent missing: run make build"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT is taken; set BENCH_DB_PORT"
fi

W=$WORK/db
MNT=$W/mnt
mkdir -p "$W/bin" "$MNT" "$W/store"
(cd "$ROOT" && go build -o "$W/bin/dbwriter" ./tools/bench/dbwriter)
DBPID='' WPID='' MOUNTED=''
cleanup() {
  if [[ -n $WPID ]] && kill -0 "$WPID" 2>/dev/null; then
    kill -TERM "$WPID"
    wait "$WPID" 2>/dev/null || true
  fi
  if [[ -n $DBPID ]] && kill -0 "$DBPID" 2>/dev/null; then
    kill -TERM "$DBPID"
    wait "$DBPID" 2>/dev/null || true
  fi
  if [[ -n $MOUNTED ]]; then
    umount "$MNT" 2>/dev/null || umount -l "$MNT" || true
  fi
}
trap cleanup EXIT

# Room for the data, InnoDB's logs and the snapshot's divergence.
IMG_MB=$((MB * 3 + 1024))
truncate -s "${IMG_MB}M" "$W/btrfs.img"
mkfs.btrfs -q "$W/btrfs.img" >"$LOGDIR/mkfs.log" 2>&1
mount -o loop "$W/btrfs.img" "$MNT"
MOUNTED=1
DATA=$MNT/mysql
btrfs -q subvolume create "$DATA"
mariadb-install-db --no-defaults --datadir="$DATA" --user=root \
  --auth-root-authentication-method=normal --skip-test-db >"$LOGDIR/install-db.log" 2>&1
mariadbd --no-defaults --datadir="$DATA" --user=root --socket="$W/sock" --port="$PORT" \
  --bind-address=127.0.0.1 --pid-file="$W/pid" --log-error="$LOGDIR/mariadbd.err" \
  --innodb-buffer-pool-size=256M --innodb-log-file-size=256M --skip-log-bin \
  --performance-schema=OFF >>"$LOGDIR/mariadbd.err" 2>&1 &
DBPID=$!
sql() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$PORT" -u root -N -B -e "$1"; }
for _ in $(seq 600); do
  sql 'SELECT 1' >/dev/null 2>&1 && break
  kill -0 "$DBPID" 2>/dev/null || die "mariadbd exited: $(tail -n 5 "$LOGDIR/mariadbd.err")"
  sleep 0.1
done
sql 'SELECT 1' >/dev/null || die "mariadbd did not start: $(tail -n 5 "$LOGDIR/mariadbd.err")"

# Load: 1 KiB rows, doubled with INSERT ... SELECT up to the target count.
sql "CREATE DATABASE t;
  CREATE TABLE t.inno (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=InnoDB;
  CREATE TABLE t.aria (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=Aria;
  CREATE TABLE t.bulk (id INT AUTO_INCREMENT PRIMARY KEY, pad VARCHAR(1000)) ENGINE=InnoDB;
  CREATE TABLE t.bulka (id INT AUTO_INCREMENT PRIMARY KEY, pad VARCHAR(1000)) ENGINE=Aria;"
fill() { # TABLE ROWS
  local tbl=$1 want=$2 have
  sql "INSERT INTO t.$tbl (pad) VALUES (REPEAT(MD5(RAND()), 31))"
  while :; do
    have=$(sql "SELECT COUNT(*) FROM t.$tbl")
    ((have < want)) || break
    sql "INSERT INTO t.$tbl (pad) SELECT REPEAT(MD5(RAND()), 31) FROM t.$tbl LIMIT $((want - have))"
  done
}
ROWS=$((MB * 1024))
fill bulk $((ROWS * 3 / 4))
fill bulka $((ROWS / 4))
sql "FLUSH TABLES"
sync
LOADED_MB=$(du -sm "$DATA" | cut -f1)

printf '[default]\nhost = 127.0.0.1\nport = %s\nuser = root\npassword =\n' "$PORT" >"$W/mysql.conf"
TABLES=inno,aria # the writer's tables
run_method() { # LABEL TARGET AGENT-ARGS...
  local label=$1 target=$2 t0 t1 res lock gaps tbl
  shift 2
  for tbl in ${TABLES//,/ }; do sql "DELETE FROM t.$tbl"; done
  DBWRITER_TABLES=$TABLES DBWRITER_DSN="root@tcp(127.0.0.1:$PORT)/" "$W/bin/dbwriter" >"$W/writer.out" 2>"$LOGDIR/writer-$label.err" &
  WPID=$!
  sleep 1
  t0=$EPOCHREALTIME
  "$BUILD/freezer-agent" --storage local --container "$W/store" --backup-name "$label" \
    --mode mysql --mysql-conf "$W/mysql.conf" --path-to-backup "$DATA" \
    --snapshot-journal "$W/journal" --metadata-out - "$@" >"$W/result.json" 2>"$LOGDIR/agent-$label.log" ||
    die "backup $label failed: $(tail -n 5 "$LOGDIR/agent-$label.log")"
  t1=$EPOCHREALTIME
  sleep 1
  kill -TERM "$WPID"
  wait "$WPID" || die "writer failed: $(tail -n 5 "$LOGDIR/writer-$label.err")"
  WPID=''
  res=$(cat "$W/result.json")
  if [[ -n ${WANT_LOCKS:-} ]] && [[ $(jq -r '.backup_locks' <<<"$res") != "$WANT_LOCKS" ]]; then
    die "backup $label: backup_locks is $(jq -r '.backup_locks' <<<"$res"), expected $WANT_LOCKS"
  fi
  lock=$(jq -r '.lock_seconds // "-"' <<<"$res")
  [[ $lock == - ]] || lock=$(printf '%.3f' "$lock")
  gaps=$(cat "$W/writer.out")
  local inno_gap_s=- aria_gap_s=-
  # shellcheck disable=SC2086 # key=value words
  local $gaps
  # shellcheck disable=SC2154 # set by the line above
  printf '%-34s %8s %9.1f %9s %12s %12s %8s  %s\n' "$label" "$LOADED_MB" \
    "$(bc <<<"$t1 - $t0")" "$lock" "$inno_gap_s" "$aria_gap_s" "$commits" "$target"
}

echo "== db: writes blocked during a --mode mysql backup (scratch mariadbd on btrfs, BENCH_DB_MB=$MB) =="
printf '%-34s %8s %9s %9s %12s %12s %8s  %s\n' method data_MB backup_s lock_s inno_gap_s aria_gap_s commits target
run_method ftwrl-btrfs-snapshot "inno_gap_s < 1 at 1 GB" --snapshot btrfs
WANT_LOCKS=true run_method no-snapshot-mariadb-backup "auto keeps the locks: Aria tables"
# The same data, InnoDB only: auto drops mariadb-backup's locks.
sql "DROP TABLE t.aria; ALTER TABLE t.bulka ENGINE=InnoDB;
  CREATE TABLE t.inno2 (id INT PRIMARY KEY, pad VARCHAR(200)) ENGINE=InnoDB"
sync
LOADED_MB=$(du -sm "$DATA" | cut -f1)
TABLES=inno,inno2
WANT_LOCKS=false run_method innodb-only-mariadb-backup "InnoDB not blocked (inno_gap_s ~ commit time)"
WANT_LOCKS=true run_method innodb-only-mariadb-backup-locks "reference: locks forced" --mysql-hot-backup-locks always
echo "lock_s: what the agent reports (FTWRL..UNLOCK, mariadb-backup's BLOCK_COMMIT..END, 0 when it ran with --no-lock); *_gap_s: the longest wait between two commits of the writer during the run (aria_gap_s: - on the InnoDB-only rows, whose second writer commits into another InnoDB table). Under a loaded machine the gaps are indicative only."
