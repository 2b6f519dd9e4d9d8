#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-export-queues
# nvme p2p on what it cannot work on: a path that does not exist, a device
# that is not an NVMe controller (/dev/null), a namespace block device, a
# controller without a CMB where one is needed, bad options, unknown queue
# IDs. Each gives a message that says what is wrong, and exit status 1.
. "$(dirname "$0")/lib.sh"
nvme=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tools/nvme-cli/nvme
[ -x "$nvme" ] || bail "$nvme built (make builds it)"

err=$(mktemp)
trap 'rm -f "$err"' EXIT

# fails WANT_MESSAGE DESCRIPTION ARGS...: nvme ARGS exits 1, stderr has
# WANT_MESSAGE. The command runs under "${as_user[@]}" (empty: as root).
as_user=()
fails() {
	local want=$1 desc=$2 rc
	shift 2
	"${as_user[@]}" "$nvme" "$@" >/dev/null 2>"$err"
	rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$want" "$err"; then
		tap_result 0 "$desc"
	else
		tap_result 1 "$desc"
		diag "exit $rc, stderr:"
		sed 's/^/#   /' "$err"
	fi
}

c=$(ctrl_by_serial $SERIAL_CMB) || bail "CMB controller present"
data=$(ctrl_by_serial $SERIAL_DATA) || bail "data controller present"
root=$(ctrl_by_serial $SERIAL_ROOT) || bail "root-bus controller present"

for sub in info peers list "queue --qid 1" "create-region --size 4096" create-queue; do
	# shellcheck disable=SC2086
	fails "/dev/nvme-p2p-none: No such file or directory" \
		"$sub: a path that does not exist" p2p $sub /dev/nvme-p2p-none
	# shellcheck disable=SC2086
	fails "/dev/null is not an NVMe controller (character device 1:3 is of class 'mem')" \
		"$sub: /dev/null is refused as not an NVMe controller" p2p $sub /dev/null
done
fails "Invalid argument" "info without a device" p2p info
ns=$(ns_of_ctrl "$c") || bail "namespace of $c"
fails "/dev/$ns is a namespace block device: nvme p2p works on its controller, /dev/$c" \
	"a namespace block device: names the controller to use" p2p info "/dev/$ns"

for o in $data $root; do
	fails "$o: no CMB registered as p2pmem: there is nothing for peers to reach" \
		"peers on $o (no CMB)" p2p peers "/dev/$o"
	fails "$o: NVME_P2P_IOCTL_REGION_CREATE: No such device (no CMB registered as p2pmem" \
		"create-region on $o (no CMB)" p2p create-region "/dev/$o" --size 4096
	fails "$o: NVME_P2P_IOCTL_QUEUE_CREATE: No space left on device (the placement needs CMB space or CMBSZ.SQS" \
		"create-queue --sq-placement cmb on $o (no CMB)" p2p create-queue "/dev/$o" --sq-placement cmb
done

fails "invalid output format 'xml': normal or json" "-o xml" p2p info "/dev/$c" -o xml
fails "invalid output format 'binary': normal or json" "-o binary" p2p list "/dev/$c" -o binary
fails "--size: give the region size in bytes" "create-region without --size" \
	p2p create-region "/dev/$c"
fails "NVME_P2P_IOCTL_REGION_CREATE: Invalid argument (the size must be a non-zero multiple of 4096)" \
	"create-region --size 1000" p2p create-region "/dev/$c" --size 1000
fails "NVME_P2P_IOCTL_REGION_CREATE: No space left on device (not enough contiguous free CMB)" \
	"create-region larger than the CMB" p2p create-region "/dev/$c" --size 128M
fails "Expected long suffixed integer argument for 'size' but got '1X'" \
	"create-region --size 1X" p2p create-region "/dev/$c" --size 1X
fails "--qid: give the queue ID of an exported I/O queue" "queue without --qid" p2p queue "/dev/$c"
fails "$c: no exported queue with qid 999 (see 'nvme p2p list')" "queue --qid 999" \
	p2p queue "/dev/$c" --qid 999
fails "--peer 'nonsense': not a PCI address ([dddd:]bb:dd.f)" "peers --peer nonsense" \
	p2p peers "/dev/$c" --peer nonsense
fails "--peer 0000:fe:1f.7: no such PCI device" "peers --peer of an absent device" \
	p2p peers "/dev/$c" --peer fe:1f.7
fails "--sq-placement 'gpu': cmb-preferred, cmb or host" "create-queue --sq-placement gpu" \
	p2p create-queue "/dev/$c" --sq-placement gpu
fails "--cq-placement 'gpu': host or cmb" "create-queue --cq-placement gpu" \
	p2p create-queue "/dev/$c" --cq-placement gpu
fails "NVME_P2P_IOCTL_QUEUE_CREATE: Invalid argument (depth out of range" \
	"create-queue --depth 1" p2p create-queue "/dev/$c" --depth 1
fails "NVME_P2P_IOCTL_QUEUE_CREATE: Operation not supported (no queue IDs reserved for export" \
	"create-queue --cq-placement cmb without CMBSZ.CQS" p2p create-queue "/dev/$c" --cq-placement cmb
# nvme-cli itself prints this one on standard output.
out=$("$nvme" p2p frobnicate "/dev/$c" 2>&1)
is "$?" 1 "an unknown subcommand exits 1"
ok "naming it" grep -qF "ERROR: Invalid sub-command 'frobnicate' for plugin p2p" <<<"$out"

# Not as root: queue export needs CAP_SYS_ADMIN, regions do not.
if command -v setpriv >/dev/null; then
	mode=$(stat -c %a "/dev/$c")
	chmod o+rw "/dev/$c"
	as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fails "NVME_P2P_IOCTL_QUEUE_CREATE: Operation not permitted (exporting a queue needs CAP_SYS_ADMIN)" \
		"create-queue as an unprivileged user" p2p create-queue "/dev/$c"
	out=$("${as_user[@]}" "$nvme" p2p create-region "/dev/$c" --size 4096 -o json)
	is "$?:$(jq -r .size <<<"$out" 2>/dev/null)" 0:4096 "create-region works for an unprivileged user"
	chmod "$mode" "/dev/$c"
else
	skip "create-queue without CAP_SYS_ADMIN" "no setpriv"
	skip "create-region without privilege" "no setpriv"
fi

done_testing
