#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-queue-rings-in-a-peer-s-memory-imported
# fio through the nvmep2p engine with the job's rings in another device's
# memory (sq_placement= and cq_placement= udmabuf or peer): data0, which
# has no CMB, with both rings in p2p0's CMB or in a udmabuf; p2p0 with its
# SQ in its own CMB and the CQ in a udmabuf. verify= passes each time and
# nothing stays exported; root0 cannot reach p2p0's CMB and the engine
# says so.
. "$(dirname "$0")/lib.sh"
build=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
engine=$build/fio-engine/.libs/nvmep2p.so
[ -f "$engine" ] || bail "$engine not built (make builds it)"
[ -x "$P2P_NVME" ] || bail "$P2P_NVME built (make builds it)"

cmb=$(ctrl_by_serial $SERIAL_CMB) || bail "controller $SERIAL_CMB present"
data=$(ctrl_by_serial $SERIAL_DATA) || bail "controller $SERIAL_DATA present"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# engine_fio NAME SERIAL ARGS...: fio with the engine on that controller.
engine_fio() {
	local name=$1 serial=$2
	shift 2
	fio --name="$name" --ioengine=external:"$engine" --controller=serial:$serial \
		--eta=never --output-format=json --output="$tmp/$name.json" "$@" 2>"$tmp/$name.err"
}

jget() { jq -r "$2" "$tmp/$1.json" 2>/dev/null; }

nothing_exported() {
	is "$(p2p_info "$cmb" '"\(.regions) \(.queues_used) \(.cmb_free)"')" \
		"0 0 $cmb_free0" "$1: no region or queue left on $cmb, its CMB all free"
	is "$(p2p_info "$data" '"\(.regions) \(.queues_used)"')" "0 0" \
		"$1: no region or queue left on $data"
}

# verify_job NAME SERIAL ARGS...: write 8 MiB and verify it.
verify_job() {
	local name=$1 serial=$2 rc
	shift 2
	engine_fio "$name" "$serial" --size=8M --verify_fatal=1 --do_verify=1 "$@"
	rc=$?
	ok "$name: fio exit 0, job error $(jget "$name" '.jobs[0].error')" \
		test "$rc" = 0 -a "$(jget "$name" '.jobs[0].error')" = 0 ||
		head -5 "$tmp/$name.err" | sed 's/^/#   /'
	is "$(jget "$name" '.jobs[0].write.io_kbytes')/$(jget "$name" '.jobs[0].read.io_kbytes')" \
		"8192/8192" "$name: wrote and verified 8 MiB"
	nothing_exported "$name"
}

cmb_free0=$(p2p_info "$cmb" .cmb_free)
verify_job data0-rings-in-p2p0-cmb $SERIAL_DATA --sq_placement=peer --cq_placement=peer \
	--ring_peer=serial:$SERIAL_CMB --rw=randwrite --bs=4k --iodepth=16 --verify=crc32c \
	--offset=600M
verify_job data0-rings-in-udmabuf $SERIAL_DATA --sq_placement=udmabuf --cq_placement=udmabuf \
	--rw=randwrite --bsrange=4k-64k --iodepth=8 --verify=md5 --offset=620M
verify_job p2p0-cq-in-udmabuf $SERIAL_CMB --sq_placement=cmb --cq_placement=udmabuf \
	--rw=randwrite --bs=8k --iodepth=32 --verify=crc32c --offset=640M

engine_fio root0-peer $SERIAL_ROOT --sq_placement=peer --cq_placement=peer \
	--ring_peer=serial:$SERIAL_CMB --rw=randread --bs=4k --iodepth=4 --size=1M
rc=$?
ok "root0-peer: fio fails (exit $rc)" test "$rc" != 0
ok "root0-peer: the engine says the controller cannot reach ring_peer's CMB" \
	grep -q "cannot reach ring_peer's CMB" "$tmp/root0-peer.err"
engine_fio no-peer $SERIAL_DATA --sq_placement=peer --rw=randread --bs=4k --size=1M
rc=$?
ok "no-peer: sq_placement=peer without ring_peer= fails (exit $rc) and says so" \
	bash -c "test $rc != 0 && grep -q 'need ring_peer=' '$tmp/no-peer.err'"
nothing_exported errors
done_testing
