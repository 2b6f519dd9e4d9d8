#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-list-a-controller-s-exports
# nvme p2p info: its JSON against what the testbed is (64 MiB CMB in BAR 2 with
# SQS LISTS RDS WDS, not CQS; QEMU's MDTS, MQES and doorbell stride as
# nvme show-regs reads them; nvme.p2p_queues=8) and against sysfs p2pmem; a
# region held by create-region is counted; controllers without a CMB say so.
. "$(dirname "$0")/lib.sh"
nvme=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tools/nvme-cli/nvme
[ -x "$nvme" ] || bail "$nvme built (make builds it)"
MiB=$((1 << 20))

c=$(ctrl_by_serial $SERIAL_CMB) || bail "CMB controller present"
pci=$(pci_dev_of_ctrl "$c")
out=$("$nvme" p2p info "/dev/$c" -o json); rc=$?
is "$rc" 0 "info /dev/$c -o json exits 0"
jq -e . >/dev/null <<<"$out" || bail "info prints JSON"
j() { jq -r "$1" <<<"$out"; }

is "$(j .device)" "$c" "device is $c"
is "$(j .pci_address)" "${pci##*/}" "pci_address is ${pci##*/}"
is "$(j .cmb_registered)" true "CMB registered as p2pmem"
is "$(j .cmb_size)" "$TESTBED_CMB_BYTES" "cmb_size is 64 MiB"
is "$(j .cmb_size)" "$(cat "$pci/p2pmem/size")" "cmb_size equals p2pmem/size"
is "$(j .cmb_free)" "$(cat "$pci/p2pmem/available")" "cmb_free equals p2pmem/available"
is "$(j '.cmb_size - .cmb_free')" "$(j .cmb_used)" "cmb_used is cmb_size - cmb_free"
is "$(j .kernel_sqs_in_cmb)" true "the kernel's own SQs are in the CMB"
ok "kernel_cmb_bytes ($(j .kernel_cmb_bytes)) > 0" test "$(j .kernel_cmb_bytes)" -gt 0
is "$(j .cmb_used)" "$(j .kernel_cmb_bytes)" "with nothing exported, the kernel's SQs are all the CMB used"
is "$(j '.capabilities | [.sqs, .cqs, .lists, .rds, .wds] | map(tostring) | join(" ")')" \
	"true false true true true" "capabilities: SQS LISTS RDS WDS set, CQS clear"
cmbsz=$(cmbsz_of_ctrl "$c")
is "$(j .cmbsz)" "$((cmbsz))" "cmbsz equals nvme show-regs' CMBSZ"
is "$(j .cmb_bar)" 2 "CMB in BAR 2"
is "$(j .cmb_bar_offset)" 0 "at offset 0 of the BAR"
# CAP has bits above 2^53 (CMBS): read it as text, jq would round it.
cap=$(nvme show-regs "/dev/$c" -o json | grep -o '"cap" *: *[0-9]*' | grep -o '[0-9]*$')
is "$(j .max_queue_depth)" "$(( (cap & 0xffff) + 1 ))" "max_queue_depth is CAP.MQES + 1"
is "$(j .db_stride)" "$(( 4 << ((cap >> 32) & 0xf) ))" "db_stride is 4 << CAP.DSTRD"
is "$(j .max_transfer)" $((512 * 1024)) "max_transfer is QEMU's MDTS, 512 KiB"
is "$(j .queues_reserved)" 8 "8 queue IDs reserved (nvme.p2p_queues=8)"
ok "first_qid ($(j .first_qid)) is an I/O queue ID" test "$(j .first_qid)" -ge 1
is "$(j .doorbells_apart)" true "doorbells_apart: p2p0 grants 520 queues, exported IDs from 512"
is "$(j .first_qid)" 512 "first_qid 512: the first on a doorbell page of its own"
is "$(j .queues_used)" 0 "no queue exported"
is "$(j .regions)" 0 "no region"

h=$("$nvme" p2p info "/dev/$c" -o json -H)
is "$(jq -r .cmbloc_fields.bir <<<"$h")" 2 "-H JSON: cmbloc_fields.bir is 2"
is "$(jq -r '.cmbsz_fields.sz * .cmbsz_fields.size_unit_bytes' <<<"$h")" "$TESTBED_CMB_BYTES" \
	"-H JSON: CMBSZ.SZ x size unit is 64 MiB"
is "$(jq -r .cmbloc_fields.cqda <<<"$h")" "$( (( ($(j .cmbloc) >> 8) & 1 )) && echo true || echo false)" \
	"-H JSON: cmbloc_fields.cqda is CMBLOC bit 8"
n=$("$nvme" p2p info "/dev/$c")
ok "normal output names the capabilities" grep -qx 'capabilities      : sqs lists rds wds' <<<"$n"
ok "normal output places the CMB" grep -q '^cmb  *: 64 MiB in BAR 2 at offset 0x0, registered as p2pmem' <<<"$n"
n=$("$nvme" p2p info "/dev/$c" -H)
ok "-H decodes CQS as absent" grep -qP '^\tcqs +no : completion queues' <<<"$n"
ok "-H decodes SQS as present" grep -qP '^\tsqs +yes: submission queues' <<<"$n"
ok "-H decodes CMBLOC.BIR" grep -qP '^\tbir +BAR 2$' <<<"$n"

# A region created by another process shows in regions and cmb_free.
tmp=$(mktemp -d)
"$nvme" p2p create-region "/dev/$c" --size 1M --hold 120 -o json >"$tmp/region" &
holder=$!
# The holder's start under TCG on a loaded host can take many seconds.
for _ in $(seq 600); do jq -e . "$tmp/region" >/dev/null 2>&1 && break; sleep 0.1; done
jq -e . "$tmp/region" >/dev/null 2>&1 || bail "create-region --hold printed its region within 60 s"
held=$("$nvme" p2p info "/dev/$c" -o json)
is "$(jq -r .regions <<<"$held")" 1 "a held 1 MiB region is counted"
is "$(jq -r .cmb_free <<<"$held")" "$(( $(j .cmb_free) - MiB ))" "and takes 1 MiB of cmb_free"
kill -TERM "$holder"
wait "$holder"
is "$?" 0 "create-region exits 0 when told to stop"
after=$("$nvme" p2p info "/dev/$c" -o json)
is "$(jq -r .regions <<<"$after")" 0 "the region is gone once its holder exits"
is "$(jq -r .cmb_free <<<"$after")" "$(j .cmb_free)" "and cmb_free is back"
rm -rf "$tmp"

for s in $SERIAL_DATA $SERIAL_ROOT; do
	o=$(ctrl_by_serial "$s") || { tap_result 1 "controller $s present"; continue; }
	out=$("$nvme" p2p info "/dev/$o" -o json); rc=$?
	is "$rc" 0 "info on $o ($s, no CMB) exits 0: queues may still be exported"
	is "$(jq -r '[.cmb_registered, .cmb_size, .cmb_free, .capabilities.sqs] | map(tostring) | join(" ")' <<<"$out")" \
		"false 0 0 false" "$o: no CMB registered, size 0, no capabilities"
	ok "$o normal output says 'cmb: none'" grep -qx 'cmb  *: none' <<<"$("$nvme" p2p info "/dev/$o")"
done

done_testing
