#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: mm-add-p2p_map-and-p2p_unmap-to-vm_operations_struct
# The testbed's PCI topology is the one DESIGN.md specifies: the CMB NVMe, the
# data NVMe and an edu behind one PCIe switch; an NVMe and an edu on the root
# bus.
. "$(dirname "$0")/lib.sh"

declare -A ctrl dev
for s in $SERIAL_CMB $SERIAL_DATA $SERIAL_ROOT; do
	ctrl[$s]=$(ctrl_by_serial "$s") || bail "controller with serial $s present"
	dev[$s]=$(pci_dev_of_ctrl "${ctrl[$s]}")
	ok "controller serial $s is ${ctrl[$s]} at $(basename "${dev[$s]}")" test -d "${dev[$s]}"
done

id_of() { echo "$(sed 's/0x//' "$1/vendor"):$(sed 's/0x//' "$1/device")"; }

cmb=${dev[$SERIAL_CMB]}
down=$(dirname "$cmb")
up=$(dirname "$down")
root=$(dirname "$up")
is "$(id_of "$down")" 104c:8233 "CMB NVMe sits on a switch downstream port (xio3130-downstream)"
is "$(id_of "$up")" 104c:8232 "whose parent is the switch upstream port (x3130-upstream)"
is "$(id_of "$root")" 1b36:000c "under a PCIe root port"
is "$(dirname "$root")" "$(readlink -f /sys/devices/pci0000:00)" "the root port is on the root bus"

is "$(upstream_port "${dev[$SERIAL_DATA]}")" "$up" "data NVMe is behind the same switch"

edus=$(pci_devs_by_id $EDU_ID)
is "$(echo "$edus" | grep -c .)" 2 "two edu DMA peers present"
switch_edu=$(echo "$edus" | while read -r e; do [ "$(upstream_port "$e")" = "$up" ] && echo "$e"; done)
root_edu=$(echo "$edus" | while read -r e; do [ "$(dirname "$e")" = "$(dirname "$root")" ] && echo "$e"; done)
ok "one edu behind the switch (${switch_edu##*/})" test -n "$switch_edu"
ok "one edu on the root bus (${root_edu##*/})" test -n "$root_edu"
is "$(dirname "${dev[$SERIAL_ROOT]}")" "$(dirname "$root")" "root-bus NVMe is on the root bus"

done_testing
