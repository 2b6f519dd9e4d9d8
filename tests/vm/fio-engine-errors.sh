#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-list-a-controller-s-exports
# The nvmep2p fio engine refuses bad jobs with one clear error line and a
# non-zero exit, and leaves nothing exported on the controller.
. "$(dirname "$0")/lib.sh"
build=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
engine=$build/fio-engine/.libs/nvmep2p.so
[ -f "$engine" ] || bail "$engine not built (make builds it)"
[ -x "$P2P_NVME" ] || bail "$P2P_NVME built (make builds it)"

cmb=$(ctrl_by_serial $SERIAL_CMB) || bail "controller $SERIAL_CMB present"
data=$(ctrl_by_serial $SERIAL_DATA) || bail "controller $SERIAL_DATA present"
reserved=$(p2p_info "$cmb" .queues_reserved)
diag "$cmb: $(p2p_info "$cmb")"

# exports CTRL: "regions queues_used" of a controller.
exports() {
	p2p_info "$1" '"\(.regions) \(.queues_used)"'
}

# refused DESCRIPTION CTRL WANT-REGEX FIO-ARGS...: fio exits non-zero, its
# output has exactly one line matching WANT-REGEX, the controller exports
# nothing afterwards.
refused() {
	local desc=$1 ctrl=$2 want=$3 out rc n
	shift 3
	out=$(fio --name=bad --ioengine=external:"$engine" "$@" 2>&1)
	rc=$?
	n=$(grep -cE -- "$want" <<<"$out")
	if [ "$rc" != 0 ] && [ "$n" = 1 ]; then
		tap_result 0 "$desc: exit $rc, says so"
	else
		tap_result 1 "$desc: exit $rc, $n lines match '$want'"
		sed 's/^/#   /' <<<"$out" | head -20
	fi
	is "$(exports "$ctrl")" "0 0" "$desc: no region or queue left on $ctrl"
}

job=(--rw=randread --bs=4k --size=1M --iodepth=4)

refused "no controller= option" "$cmb" '^nvmep2p: controller= is required' "${job[@]}"
refused "a controller that does not exist" "$cmb" \
	'^nvmep2p: controller nvme99: No such file or directory' --controller=nvme99 "${job[@]}"
refused "a serial nobody has" "$cmb" \
	'^nvmep2p: controller serial:no-such-serial: ' --controller=serial:no-such-serial "${job[@]}"
refused "a character device that is no controller" "$cmb" \
	'^nvmep2p: controller /dev/null: no nvme-p2p export in this kernel \(or not an NVMe controller\)' \
	--controller=/dev/null "${job[@]}"
ns=$(ns_of_ctrl "$cmb") || bail "$cmb has a namespace"
refused "a namespace block device as controller" "$cmb" \
	"^nvmep2p: controller /dev/$ns: no nvme-p2p export in this kernel \\(or not an NVMe controller\\)" \
	--controller=/dev/$ns "${job[@]}"
refused "sq_placement=foo" "$cmb" "^fio: failed parsing sq_placement=foo" \
	--controller=serial:$SERIAL_CMB --sq_placement=foo "${job[@]}"
refused "buf_placement=gpu" "$cmb" "^fio: failed parsing buf_placement=gpu" \
	--controller=serial:$SERIAL_CMB --buf_placement=gpu "${job[@]}"
refused "nsid=0" "$cmb" "^fio: failed parsing nsid=0" \
	--controller=serial:$SERIAL_CMB --nsid=0 "${job[@]}"

if [ "${reserved:-0}" = 0 ]; then
	refused "a controller without queues reserved for export" "$cmb" \
		"^nvmep2p: $cmb has no I/O queues reserved for export" \
		--controller=serial:$SERIAL_CMB "${job[@]}"
	diag "no queues reserved for export on $cmb (nvme.p2p_queues): the rest needs them"
	done_testing
fi

refused "a namespace out of range" "$cmb" "^nvmep2p: $cmb has no active namespace 77\$" \
	--controller=serial:$SERIAL_CMB --nsid=77 "${job[@]}"
refused "sq_placement=cmb without a CMB" "$data" \
	"^nvmep2p: $data has no CMB that can hold submission queues" \
	--controller=serial:$SERIAL_DATA --sq_placement=cmb "${job[@]}"
refused "buf_placement=cmb without a CMB" "$data" \
	"^nvmep2p: $data has no CMB for data" \
	--controller=serial:$SERIAL_DATA --sq_placement=host --buf_placement=cmb "${job[@]}"
refused "a block size that is not a multiple of the LBA size" "$cmb" \
	'^nvmep2p: read block sizes must be multiples of the 512-byte logical block|^nvmep2p: read block sizes must be multiples of the 4096-byte' \
	--controller=serial:$SERIAL_CMB --rw=randread --bs=1000 --size=1M
refused "bs above the controller's largest transfer" "$cmb" \
	"^nvmep2p: bs 1048576 is above $cmb's largest transfer" \
	--controller=serial:$SERIAL_CMB --rw=read --bs=1M --size=4M
refused "host buffers above 4 MiB" "$cmb" \
	'^nvmep2p: iodepth x bs needs [0-9]+ KiB of buffers, host regions hold 4096 KiB' \
	--controller=serial:$SERIAL_CMB --rw=read --bs=256k --iodepth=32 --size=16M
refused "iodepth above the queue depth" "$cmb" \
	"^nvmep2p: iodepth=65535 is above what $cmb's queues hold" \
	--controller=serial:$SERIAL_CMB --rw=read --bs=4k --iodepth=65535 --size=1M

done_testing
