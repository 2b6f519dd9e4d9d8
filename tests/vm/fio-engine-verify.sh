#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-list-a-controller-s-exports
# Short fio jobs through the nvmep2p engine on the CMB controller's
# namespace: verify= passes for every SQ and buffer placement, data written
# through an exported queue is what the kernel's block path reads and the
# other way round, trim deallocates, fsync= sends flushes, every job gets a
# queue of its own, and nothing stays exported afterwards.
. "$(dirname "$0")/lib.sh"
build=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
engine=$build/fio-engine/.libs/nvmep2p.so
[ -f "$engine" ] || bail "$engine not built (make builds it)"
[ -x "$P2P_NVME" ] || bail "$P2P_NVME built (make builds it)"

ctrl=$(ctrl_by_serial $SERIAL_CMB) || bail "controller $SERIAL_CMB present"
ns=$(ns_of_ctrl "$ctrl") || bail "$ctrl has a namespace"
reserved=$(p2p_info "$ctrl" .queues_reserved)
[ "${reserved:-0}" -gt 0 ] || bail "$ctrl has queues reserved for export (nvme.p2p_queues)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# engine_fio NAME ARGS...: run fio with the engine on the CMB controller,
# JSON in $tmp/NAME.json, messages in $tmp/NAME.err; returns fio's status.
engine_fio() {
	local name=$1
	shift
	fio --name="$name" --ioengine=external:"$engine" --controller=serial:$SERIAL_CMB \
		--eta=never --output-format=json --output="$tmp/$name.json" "$@" 2>"$tmp/$name.err"
}

# jget NAME FILTER: a jq filter over the job's JSON.
jget() { jq -r "$2" "$tmp/$1.json" 2>/dev/null; }

# passed NAME RC: fio exit 0 and every job error 0.
passed() {
	local errs
	errs=$(jget "$1" '[.jobs[].error] | map(tostring) | join(",")')
	if [ "$2" = 0 ] && [ -n "$errs" ] && ! grep -q '[^0,]' <<<"$errs"; then
		tap_result 0 "$1: fio exit 0, job errors $errs"
	else
		tap_result 1 "$1: fio exit $2, job errors '${errs}'"
		head -20 "$tmp/$1.err" | sed 's/^/#   /'
	fi
}

nothing_exported() {
	is "$(p2p_info "$ctrl" '"\(.regions) \(.queues_used)"')" "0 0" "$1: no region or queue left on $ctrl"
}

# verify_job NAME ARGS...: a write+verify job, 8 MiB unless ARGS say else.
verify_job() {
	local name=$1 rc
	shift
	engine_fio "$name" --size=8M --verify_fatal=1 --do_verify=1 "$@"
	rc=$?
	passed "$name" "$rc"
	is "$(jget "$name" '.jobs[0].write.io_kbytes')/$(jget "$name" '.jobs[0].read.io_kbytes')" \
		"8192/8192" "$name: wrote and verified 8 MiB"
	nothing_exported "$name"
}

verify_job sq-cmb-buf-host --sq_placement=cmb --buf_placement=host \
	--rw=randwrite --bs=4k --iodepth=8 --verify=crc32c
verify_job sq-host-buf-host --sq_placement=host --buf_placement=host \
	--rw=randwrite --bs=4k --iodepth=16 --verify=crc32c
# 4k-128k: transfers of one, two and many pages (PRP lists in the CMB).
verify_job sq-host-buf-cmb --sq_placement=host --buf_placement=cmb \
	--rw=randwrite --bsrange=4k-128k --iodepth=4 --verify=md5 --offset=64M
verify_job sq-cmb-buf-cmb --sq_placement=cmb --buf_placement=cmb \
	--rw=write --bs=128k --iodepth=8 --verify=sha256 --offset=128M
verify_job poll-spin --poll_mode=spin --rw=randwrite --bs=4k --iodepth=16 \
	--verify=crc32c --offset=352M
verify_job poll-yield --poll_mode=yield --rw=randwrite --bs=8k --iodepth=32 \
	--verify=crc32c --offset=192M
verify_job poll-sleep --poll_mode=sleep --poll_sleep_us=20 --rw=randwrite --bs=16k \
	--iodepth=2 --verify=xxhash --offset=256M

# Two jobs at once, each with a queue of its own, on disjoint ranges.
engine_fio two-jobs --numjobs=2 --offset_increment=16M --size=8M --rw=randwrite \
	--bs=4k --iodepth=8 --verify=crc32c --do_verify=1 --verify_fatal=1 --offset=320M
passed two-jobs $?
is "$(jget two-jobs '[.jobs[].read.io_kbytes] | map(tostring) | join(" ")')" "8192 8192" \
	"two-jobs: both verified 8 MiB"
nothing_exported two-jobs

# Data written through an exported queue is what the block layer reads.
pattern=0x5aa5c33c
engine_fio to-kernel --rw=write --bs=64k --iodepth=4 --size=1M --offset=400M \
	--buffer_pattern=$pattern
passed to-kernel $?
printf '\x5a\xa5\xc3\x3c%.0s' $(seq 262144) >"$tmp/expect"
dd if=/dev/$ns of="$tmp/got" bs=1M skip=400 count=1 iflag=direct status=none
ok "to-kernel: /dev/$ns reads back the engine's pattern" cmp -s "$tmp/expect" "$tmp/got"

# And what the block layer wrote is what the engine reads (verify=pattern).
dd if="$tmp/expect" of=/dev/$ns bs=1M seek=404 count=1 oflag=direct status=none
engine_fio from-kernel --rw=read --bs=8k --iodepth=4 --size=1M --offset=404M \
	--verify=pattern --verify_pattern=$pattern --verify_fatal=1
passed from-kernel $?
is "$(jget from-kernel '.jobs[0].read.io_kbytes')" 1024 "from-kernel: read and checked 1 MiB"
# A read of other data fails verification: the check above can fail.
engine_fio wrong-pattern --rw=read --bs=8k --iodepth=4 --size=1M --offset=404M \
	--verify=pattern --verify_pattern=0x01020304 --verify_fatal=1
rc=$?
ok "wrong-pattern: verification fails (exit $rc)" test "$rc" != 0

# Trim (DSM deallocate). Whether deallocated blocks read back as zeroes is
# up to the drive (QEMU's honours it only with discard=unmap): the kernel's
# own discard of another range tells what to expect.
engine_fio trim --rw=trim --bs=64k --iodepth=4 --size=1M --offset=400M
passed trim $?
is "$(jget trim '.jobs[0].trim.total_ios')" 16 "trim: 16 DSM commands"
head -c 1048576 /dev/zero >"$tmp/zero"
dd if="$tmp/expect" of=/dev/$ns bs=1M seek=412 count=1 oflag=direct status=none
if blkdiscard -o $((412 << 20)) -l $((1 << 20)) /dev/$ns 2>/dev/null &&
	dd if=/dev/$ns bs=1M skip=412 count=1 iflag=direct status=none | cmp -s - "$tmp/zero"; then
	dd if=/dev/$ns of="$tmp/got" bs=1M skip=400 count=1 iflag=direct status=none
	ok "trim: the range reads back as zeroes, as after the kernel's discard" \
		cmp -s "$tmp/zero" "$tmp/got"
else
	skip "trim: the range reads back as zeroes" \
		"the kernel's discard does not zero on this drive either (QEMU discard=ignore)"
fi

# fsync=4: Flush commands as many as fio issues syncs with io_uring.
engine_fio flush --rw=write --bs=4k --iodepth=1 --size=256k --offset=408M --fsync=4
passed flush $?
want=$(fio --name=flush-ref --filename=/dev/$ns --ioengine=io_uring --direct=1 --rw=write \
	--bs=4k --iodepth=1 --size=256k --offset=408M --fsync=4 --eta=never \
	--output-format=json 2>/dev/null | jq -r '.jobs[0].sync.total_ios')
got=$(jget flush '.jobs[0].sync.total_ios')
ok "flush: $got flushes for 64 writes, io_uring issues $want syncs" \
	test -n "$want" -a "$want" != 0 -a "$got" = "$want"
nothing_exported "trim and flush"

# More jobs than queue IDs reserved: the one left over fails with EBUSY.
engine_fio too-many --numjobs=$((reserved + 1)) --rw=randread --bs=4k --iodepth=1 \
	--size=1M --time_based --runtime=3
rc=$?
n=$(grep -c "cannot create an exported queue pair.*every reserved queue ID is in use" "$tmp/too-many.err")
ok "too-many: $((reserved + 1)) jobs on $reserved queue IDs: exit $rc, $n refused" \
	test "$rc" != 0 -a "$n" = 1
nothing_exported too-many

done_testing
