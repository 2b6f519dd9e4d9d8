#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The nvmep2p engine loads into the installed fio (API version, symbols,
# option table), was built against that fio's source, and refuses a job it
# cannot run with one line and a non-zero exit (no controller needed).
. "$(dirname "$0")/../tap.sh"
build=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
engine=$build/fio-engine/.libs/nvmep2p.so
[ -f "$engine" ] || bail "$engine not built (make builds it)"

want=$(dpkg-query -W -f='${Version}' fio 2>/dev/null)
is "$(cat "$build/fio-engine/fio-src/.configured" 2>/dev/null)" "$want" \
	"built against the source of the installed fio ($want)"

help=$(fio --enghelp="$engine" 2>&1)
n=0
for opt in controller nsid sq_placement buf_placement poll_mode poll_sleep_us stall_ms poll_report; do
	grep -q "^$opt  *: " <<<"$help" && n=$((n + 1))
done
is "$n" 8 "fio lists the engine's 8 options"

# refused DESCRIPTION WANT-REGEX ARGS...: fio exits non-zero with one line
# matching WANT-REGEX.
refused() {
	local desc=$1 want=$2 out rc n
	shift 2
	out=$(fio --name=t --ioengine=external:"$engine" --rw=read --size=1M "$@" 2>&1)
	rc=$?
	n=$(grep -cE -- "$want" <<<"$out")
	if [ "$rc" != 0 ] && [ "$n" = 1 ]; then
		tap_result 0 "$desc: exit $rc, one line says so"
	else
		tap_result 1 "$desc: exit $rc, $n lines match '$want'"
		sed 's/^/#   /' <<<"$out" | head -10
	fi
}
refused "no controller" '^nvmep2p: controller= is required'
refused "unknown controller" '^nvmep2p: controller nvme99: No such file or directory$' --controller=nvme99
refused "not a controller" '^nvmep2p: controller /dev/null: no nvme-p2p export' --controller=/dev/null
refused "bad sq_placement" '^fio: failed parsing sq_placement=ram$' --controller=nvme0 --sq_placement=ram
refused "bad poll_mode" '^fio: failed parsing poll_mode=busy$' --controller=nvme0 --poll_mode=busy
refused "poll_sleep_us=0" '^fio: failed parsing poll_sleep_us=0$' --controller=nvme0 --poll_sleep_us=0
done_testing
