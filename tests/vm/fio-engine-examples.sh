#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-list-a-controller-s-exports
# Every job file in fio-engine/examples runs as it is on the CMB controller:
# fio exits 0, no job reports an error, every job moved data, and nothing
# stays exported.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${NVMEP2P_BUILDDIR:-$top}
export NVMEP2P_ENGINE=$build/fio-engine/.libs/nvmep2p.so
export NVMEP2P_CTRL=serial:$SERIAL_CMB
[ -f "$NVMEP2P_ENGINE" ] || bail "$NVMEP2P_ENGINE not built (make builds it)"
[ -x "$P2P_NVME" ] || bail "$P2P_NVME built (make builds it)"
ctrl=$(ctrl_by_serial $SERIAL_CMB) || bail "controller $SERIAL_CMB present"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for job in "$top"/fio-engine/examples/*.fio; do
	name=$(basename "$job" .fio)
	fio --eta=never --output-format=json --output="$tmp/$name.json" "$job" 2>"$tmp/$name.err"
	rc=$?
	summary=$(jq -r '[.jobs[] | "\(.jobname):err=\(.error):kb=\(.read.io_kbytes + .write.io_kbytes + .trim.io_kbytes)"] | join(" ")' \
		"$tmp/$name.json" 2>/dev/null)
	if [ "$rc" = 0 ] && [ -n "$summary" ] && ! grep -qE 'err=[^0]|kb=0( |$)' <<<"$summary"; then
		tap_result 0 "$name.fio: $summary"
	else
		tap_result 1 "$name.fio: exit $rc, ${summary:-no JSON}"
		head -20 "$tmp/$name.err" | sed 's/^/#   /'
	fi
	is "$(p2p_info "$ctrl" '"\(.regions) \(.queues_used)"')" "0 0" "$name.fio: no region or queue left on $ctrl"
done

done_testing
