#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: mm-add-p2p_map-and-p2p_unmap-to-vm_operations_struct
# The CMB NVMe exposes the configured 64 MiB CMB as published p2pmem and its
# CMBSZ register advertises SQS, LISTS, RDS and WDS (not CQS); the other two
# controllers have no CMB.
. "$(dirname "$0")/lib.sh"

c=$(ctrl_by_serial $SERIAL_CMB) || bail "CMB controller present"
p2p=$(pci_dev_of_ctrl "$c")/p2pmem
ok "$c has a p2pmem directory" test -d "$p2p"
is "$(cat "$p2p/size" 2>/dev/null)" "$TESTBED_CMB_BYTES" "p2pmem size equals the configured 64 MiB CMB"
is "$(cat "$p2p/published" 2>/dev/null)" 1 "p2pmem is published (WDS and RDS)"
avail=$(cat "$p2p/available" 2>/dev/null || echo -1)
ok "p2pmem available ($avail) is within the CMB" test "$avail" -ge 0 -a "$avail" -le "$TESTBED_CMB_BYTES"

cmbsz=$(cmbsz_of_ctrl "$c")
ok "nvme show-regs reports CMBSZ ($cmbsz)" test -n "$cmbsz"
cmbsz=$((cmbsz + 0))
bit() { echo $(( (cmbsz >> $1) & 1 )); }
is "$(bit 0)" 1 "CMBSZ.SQS set"
is "$(bit 1)" 0 "CMBSZ.CQS clear"
is "$(bit 2)" 1 "CMBSZ.LISTS set"
is "$(bit 3)" 1 "CMBSZ.RDS set"
is "$(bit 4)" 1 "CMBSZ.WDS set"
# SZ in units of SZU (bits 11:8, 4 KiB << 4*SZU) must give 64 MiB too.
szu=$(( (cmbsz >> 8) & 0xf )) sz=$(( cmbsz >> 12 ))
is "$(( sz * (4096 << (4 * szu)) ))" "$TESTBED_CMB_BYTES" "CMBSZ.SZ x SZU is 64 MiB"

for s in $SERIAL_DATA $SERIAL_ROOT; do
	o=$(ctrl_by_serial "$s")
	ok "$o (serial $s) has no CMB p2pmem" test ! -e "$(pci_dev_of_ctrl "$o")/p2pmem"
done

done_testing
