#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: mm-add-p2p_map-and-p2p_unmap-to-vm_operations_struct
# fio with io_uring and crc32c verification passes on every namespace.
. "$(dirname "$0")/lib.sh"

for s in $SERIAL_CMB $SERIAL_DATA $SERIAL_ROOT; do
	c=$(ctrl_by_serial "$s") || { tap_result 1 "controller $s present"; continue; }
	ns=$(ns_of_ctrl "$c") || { tap_result 1 "$c has a namespace"; continue; }
	out=$(fio --name=verify-$s --filename=/dev/$ns --ioengine=io_uring --direct=1 \
		--rw=randwrite --bs=4k --size=8M --iodepth=8 --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --output-format=json 2>&1)
	rc=$?
	err=$(echo "$out" | sed -n '/^{/,$p' | jq -r '.jobs[0].error' 2>/dev/null)
	written=$(echo "$out" | sed -n '/^{/,$p' | jq -r '.jobs[0].write.io_kbytes' 2>/dev/null)
	verified=$(echo "$out" | sed -n '/^{/,$p' | jq -r '.jobs[0].read.io_kbytes' 2>/dev/null)
	ok "fio io_uring verify=crc32c on $ns ($s): exit $rc, error ${err:-?}" test "$rc" = 0 -a "$err" = 0
	is "$written/$verified" "8192/8192" "fio wrote and verified 8 MiB on $ns"
	[ "$rc" = 0 ] || echo "$out" | tail -5 | sed 's/^/# /'
done

done_testing
