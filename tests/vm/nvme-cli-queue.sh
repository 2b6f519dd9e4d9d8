#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-export-queues
# nvme p2p queue: after tests/vm/nvme-cli-queue-io ran N Flush commands
# through an exported queue from user space, the SQ head and CQ tail that
# 'nvme p2p queue' reports are N modulo the depth (also after the CQ phase
# wrapped), and the doorbell offsets are where CAP.DSTRD puts them.
. "$(dirname "$0")/lib.sh"
build=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
nvme=$build/tools/nvme-cli/nvme io=$build/tests/vm/nvme-cli-queue-io
[ -x "$nvme" ] || bail "$nvme built (make builds it)"
[ -x "$io" ] || bail "$io built (make check builds it)"

c=$(ctrl_by_serial $SERIAL_CMB) || bail "CMB controller present"
stride=$("$nvme" p2p info "/dev/$c" -o json | jq -r .db_stride)
tmp=$(mktemp -d)
io_pid=
trap '[ -z "$io_pid" ] || kill -TERM "$io_pid" 2>/dev/null; wait; rm -rf "$tmp"' EXIT

# run_io COUNT DEPTH: start the helper; sets io_pid and qid once it is done.
run_io() {
	local i
	"$io" "/dev/$c" "$1" "$2" >"$tmp/io" 2>"$tmp/io.err" &
	io_pid=$!
	for i in $(seq 600); do
		qid=$(sed -n 's/^qid=\([0-9]*\) .*/\1/p' "$tmp/io")
		[ -n "$qid" ] && return 0
		kill -0 "$io_pid" 2>/dev/null || break
		sleep 0.1
	done
	diag "nvme-cli-queue-io: $(cat "$tmp/io.err")"
	return 1
}

# check COUNT DEPTH
check() {
	local count=$1 depth=$2 want=$(( $1 % $2 )) out
	run_io "$count" "$depth" || { tap_result 1 "$count commands on a queue of depth $depth"; return; }
	out=$("$nvme" p2p queue "/dev/$c" --qid "$qid" -o json); rc=$?
	is "$rc" 0 "queue --qid $qid -o json exits 0"
	is "$(jq -r '"\(.device) \(.qid) \(.pid) \(.comm) \(.state) \(.depth)"' <<<"$out")" \
		"$c $qid $io_pid nvme-cli-queue- live $depth" "queue $qid: device, owner, state, depth"
	is "$(jq -r '"\(.sq_head) \(.cq_tail)"' <<<"$out")" "$want $want" \
		"$count commands, depth $depth: SQ head and CQ tail are $want"
	is "$(jq -r '"\(.sq_doorbell_offset) \(.cq_doorbell_offset)"' <<<"$out")" \
		"$(( 0x1000 + 2 * qid * stride )) $(( 0x1000 + (2 * qid + 1) * stride ))" \
		"doorbells at 0x1000 + (2 qid) and (2 qid + 1) x stride $stride"
	out=$("$nvme" p2p queue "/dev/$c" -q "$qid" -H)
	ok "normal output: sq_head $want" grep -qx "sq_head  *: $want" <<<"$out"
	ok "normal output: cq_tail $want" grep -qx "cq_tail  *: $want" <<<"$out"
	ok "-H explains the SQ head" grep -qP "^\tthe newest completion says the controller fetched every SQ entry before slot $want\$" <<<"$out"
	kill -TERM "$io_pid"
	wait "$io_pid"
	is "$?" 0 "the helper ran its commands and exits 0"
	"$nvme" p2p queue "/dev/$c" --qid "$qid" >/dev/null 2>"$tmp/gone"
	is "$?" 1 "queue $qid is gone once its owner exits"
}

check 0 16
check 3 16
check 20 16	# the CQ phase wrapped once

done_testing
