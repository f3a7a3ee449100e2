#!/usr/bin/env bash
# Peak RSS of freezer-agent backup and restore (zstd + fzae1, local storage)
# at two data sizes, to show that memory does not grow with the data: it
# must stay below max-segment-size x queue depth + 64 MiB and differ by
# little between the sizes. Sizes in MiB: MEMFLAT_SIZES (default "512 4096").
# Needs `make build`; uses GNU time; scratch in MEMFLAT_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
agent=$PWD/build/freezer-agent
[ -x "$agent" ] || { echo "run make build first" >&2; exit 1; }
d=${MEMFLAT_DIR:-/var/tmp/freezer-memflat}
sizes=${MEMFLAT_SIZES:-512 4096}
limit_kib=$(( (32 * 2 + 64) * 1024 )) # default 32 MiB segments, queue depth 2, + 64 MiB
rm -rf "$d" && mkdir -p "$d" && trap 'rm -rf "$d"' EXIT
echo memflat-key >"$d/key"
printf '%-8s %-8s %10s %14s\n' size step wall_s peak_rss_MiB
fail=0
for mib in $sizes; do
	mkdir -p "$d/src-$mib"
	head -c "${mib}M" /dev/urandom >"$d/src-$mib/data.bin"
	common=(--storage local --container "$d/repo-$mib" --backup-name memflat --hostname memflat
		--encrypt-pass-file "$d/key" --log-file "$d/agent.log")
	for step in backup restore; do
		if [ "$step" = backup ]; then
			args=(--action backup --path-to-backup "$d/src-$mib" --compression zstd "${common[@]}")
		else
			args=(--action restore --restore-abs-path "$d/restore-$mib" "${common[@]}")
		fi
		if ! /usr/bin/time -f '%e %M' -o "$d/time" "$agent" "${args[@]}" >/dev/null 2>"$d/stderr"; then
			echo "freezer-agent $step of ${mib} MiB failed:" >&2
			cat "$d/stderr" >&2
			exit 1
		fi
		read -r wall rss <"$d/time"
		printf '%-8s %-8s %10s %14s\n' "${mib}MiB" "$step" "$wall" "$((rss / 1024))"
		if [ "$rss" -gt "$limit_kib" ]; then
			echo "  peak RSS over the bound of $((limit_kib / 1024)) MiB" >&2
			fail=1
		fi
	done
	cmp -s "$d/src-$mib/data.bin" "$d/restore-$mib/data.bin" || { echo "  restore of ${mib} MiB differs" >&2; fail=1; }
	rm -rf "$d/src-$mib" "$d/restore-$mib" "$d/repo-$mib"
done
exit "$fail"
