#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# libnvmep2p's data path against the software controller of make
# bench-overhead (tools/lib/bench/overhead.c): every submit path (in place,
# push_cmd, push_cmds, submit_cmd) with every reap path (peek/seen, poll,
# poll_one) at batch 1 and 32 completes every I/O once, with its data
# pointer and status, with CIDs unique in flight and no spurious entry. Then, with valgrind, the
# instruction counts of two callgrind runs are the same (the figures are
# deterministic); they are printed, not judged (make bench-overhead does).
. "$(dirname "$0")/../tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${NVMEP2P_BUILDDIR:-$top}
prog=$build/tools/lib/bench/nvmep2p-overhead
[ -x "$prog" ] || bail "$prog built (make builds it)"

out=$("$prog" -n 2048); rc=$?
while read -r line; do
	case $line in
	"ok "*) tap_result 0 "${line#ok * - }" ;;
	"not ok "*) tap_result 1 "${line#not ok * - }" ;;
	esac
done <<<"$out"
is "$(grep -c '^ok' <<<"$out")" 24 "24 cases (4 submit x 3 reap paths x 2 batch sizes) ran"
is "$rc" 0 "the overhead program exits 0"

if ! command -v valgrind >/dev/null; then
	skip "callgrind counts are repeatable" "no valgrind"
	done_testing
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$top/tools/lib/bench/bench-overhead" "$prog" "$dir" >"$dir/log" 2>&1
is "$?" 0 "bench-overhead runs (callgrind, twice)"
ok "its two callgrind runs counted the same instructions" \
	grep -q '^  repeatable yes' "$dir/overhead.txt"
sed -n '/^submit /,$p' "$dir/overhead.txt" | sed 's/^/# /'
done_testing
