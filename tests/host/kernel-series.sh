#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The kernel series is well formed: every entry has a description, its inputs
# exist, it is emitted as one git format-patch file per entry, and each patch
# is clean under checkpatch.pl --strict from the pinned base.
. "$(dirname "$0")/../tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${NVMEP2P_CACHE:-/var/cache/nvme-p2p}
. "$top/kernel/series.sh"
entries=$(series_entries)

for e in $entries; do
	d=$top/kernel/patches/$e
	subject=$(series_header "$e" Subject)
	ok "$e: subject '$subject' is 'subsystem: summary'" grep -Eq '^[A-Za-z0-9/_.-]+(: [A-Za-z0-9/_.-]+)*: [a-zA-Z]' <<<"$subject"
	ok "$e: has a Signed-off-by" grep -q '^Signed-off-by: ' "$d"
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! [ -d "$cache/src/linux/.git" ]; then
	skip "series emitted and checkpatch clean" "no kernel tree in $cache (run make kernel)"
	done_testing
fi
"$top/kernel/build.sh" --series "$out" >/dev/null 2>&1
ok "kernel/build.sh --series succeeds" test $? = 0
is "$(ls "$out"/*.patch 2>/dev/null | wc -l)" "$(echo "$entries" | wc -w)" "one patch per series entry"
for p in "$out"/*.patch; do
	# Debian's python3 (with python3-ply) for spdxcheck.py, not another on PATH.
	res=$(cd "$cache/src/linux" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict -q "$p" 2>&1)
	ok "checkpatch --strict clean: $(basename "$p")" test -z "$res"
	[ -z "$res" ] || echo "$res" | head -20 | sed 's/^/# /'
done
done_testing
