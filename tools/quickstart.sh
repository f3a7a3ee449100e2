#!/usr/bin/env bash
# `make run`: the main job on embedded defaults, end to end, in build/_run/:
# freezer-api on SQLite without auth (127.0.0.1 only), a backup job created
# with the `freezer` client, freezer-scheduler picking it up and running
# freezer-agent into local storage, the job and backup shown by the client,
# then a restore compared with the source. Everything stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$PWD/build
# The leading "_" keeps the go tool from treating the copied sample sources
# below it as packages of this module (./... skips such directories).
R=$B/_run
# A free loopback port: the first of a range that nothing answers on.
PORT=${FREEZER_QUICKSTART_PORT:-}
if [ -z "$PORT" ]; then
	for p in $(seq 19090 19190); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
	done
fi
API=http://127.0.0.1:$PORT
PROJECT=quickstart-project
CLIENT=quickstart-node
pids=()

say() { printf '\n== %s\n' "$*"; }
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

for b in freezer-api freezer-manage freezer-scheduler freezer-agent freezer; do
	[ -x "$B/$b" ] || { echo "missing $B/$b: run make build" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }

rm -rf "$R"
mkdir -p "$R"/{data,storage,restore,jobs}
cat >"$R/freezer-api.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $PORT

[api]
auth_strategy = noauth

[noauth]
project_id = $PROJECT

[database]
connection = sqlite:///$R/freezer-api.db
CONF

say "freezer-manage db sync (SQLite: $R/freezer-api.db)"
"$B/freezer-manage" --config-file "$R/freezer-api.conf" db sync

say "freezer-api on $API (noauth, logs in $R/freezer-api.log)"
"$B/freezer-api" --config-file "$R/freezer-api.conf" >"$R/freezer-api.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	curl -fsS "$API/healthcheck" >/dev/null 2>&1 && break
	sleep 0.1
done
api_pid=${pids[-1]}
if ! kill -0 "$api_pid" 2>/dev/null || ! curl -fsS "$API/healthcheck" >/dev/null; then
	cat "$R/freezer-api.log" >&2
	exit 1
fi

# A small sample tree: this project's own sources and configs.
cp -r freezer internal README.rst Makefile "$R/data/"
ln -s internal "$R/data/link-to-internal"
mkdir -p "$R/data/empty-dir"

# The client talks to the noauth API directly: no Keystone, a fixed project.
export OS_AUTH_TYPE=none OS_BACKUP_URL=$API OS_PROJECT_ID=$PROJECT
fz() { "$B/freezer" "$@"; }

say "freezer-scheduler registers node $CLIENT with the API and polls it"
OS_BACKUP_URL=$API OS_PROJECT_ID=$PROJECT "$B/freezer-scheduler" --no-daemon \
	--client-id "$CLIENT" --interval 1 --jobs-dir "$R/jobs" --pid-file "$R/scheduler.pid" \
	--agent-path "$B/freezer-agent" --log-file "$R/freezer-scheduler.log" start &
pids+=($!)
for _ in $(seq 100); do
	fz client-show "$CLIENT" >/dev/null 2>&1 && break
	sleep 0.1
done
fz client-show "$CLIENT" || { tail -30 "$R/freezer-scheduler.log" >&2; exit 1; }

say "freezer job-create: a backup job for that node"
fz job-create --client "$CLIENT" --description "quick start backup" \
	--action backup --mode fs --path-to-backup "$R/data" --backup-name quickstart \
	--storage local --container "$R/storage" --option hostname=quickstart --option compression=zstd \
	--max-retries 1 --max-retries-interval 1 2>"$R/job-create.out"
cat "$R/job-create.out"
job_id=$(sed -nE 's/^Job ([0-9a-f]+) created$/\1/p' "$R/job-create.out")
[ -n "$job_id" ] || exit 1
fz job-list

say "the scheduler runs it with freezer-agent"
status=""
for _ in $(seq 120); do
	status=$(fz job-show "$job_id" -f value -c Status)
	result=$(fz job-show "$job_id" -f value -c Result)
	[ "$status" = completed ] && break
	sleep 0.5
done
echo "job $job_id: status=$status result=${result:-}"
if [ "$status" != completed ] || [ "$result" != success ]; then
	echo "the job did not succeed; scheduler log:" >&2
	tail -30 "$R/freezer-scheduler.log" >&2
	exit 1
fi

say "freezer job-show and backup-list"
fz job-show "$job_id" -c "Job ID" -c Description -c Status -c Result
fz backup-list

say "freezer-agent info and restore"
"$B/freezer-agent" --action info --storage local --container "$R/storage" \
	--backup-name quickstart --hostname quickstart
"$B/freezer-agent" --action restore --storage local --container "$R/storage" \
	--backup-name quickstart --hostname quickstart --restore-abs-path "$R/restore"
diff -r --no-dereference "$R/data" "$R/restore"
say "restored tree is identical to the source: quick start OK"
