# SPDX-License-Identifier: GPL-2.0
# Helpers for tests that run inside the testbed guest (tests/testbed/run-vm).
. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"

# Serials given to the testbed's controllers by run-vm.
SERIAL_CMB=p2p0		# behind the switch, 64 MiB CMB
SERIAL_DATA=data0	# behind the switch, no CMB
SERIAL_ROOT=root0	# on the root bus
TESTBED_CMB_BYTES=$((64 << 20))
EDU_ID=1234:11e8

# ctrl_by_serial SERIAL: prints the controller name (nvmeN).
ctrl_by_serial() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(tr -d ' ' <"$c/serial" 2>/dev/null)" = "$1" ] && { basename "$c"; return 0; }
	done
	return 1
}

# pci_dev_of_ctrl nvmeN: prints the controller's PCI device sysfs path.
pci_dev_of_ctrl() { readlink -f "/sys/class/nvme/$1/device"; }

# ns_of_ctrl nvmeN: prints the first namespace block device (nvmeNn1).
ns_of_ctrl() {
	local n
	for n in /sys/class/nvme/$1/nvme*n*; do
		[ -e "$n" ] && { basename "$n"; return 0; }
	done
	return 1
}

# pci_devs_by_id VENDOR:DEVICE: prints the sysfs paths of matching devices.
pci_devs_by_id() {
	local d want_v=0x${1%%:*} want_d=0x${1##*:}
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "$want_v" ] && [ "$(cat "$d/device")" = "$want_d" ] &&
			readlink -f "$d"
	done
}

# upstream_port DEVPATH: the sysfs path two levels up (switch upstream port
# for a device behind a downstream port); the root complex for root-bus ones.
upstream_port() { dirname "$(dirname "$1")"; }

# on_root_bus DEVPATH: the device sits directly on the root bus.
on_root_bus() { [ "$(dirname "$1")" = /sys/devices/pci0000:00 ]; }

# cmbsz_of_ctrl nvmeN: prints the CMBSZ register as nvme-cli reads it
# (empty if it cannot be read).
cmbsz_of_ctrl() {
	nvme show-regs "/dev/$1" -o json 2>/dev/null | jq -r '.cmbsz // empty'
}

# The nvme-cli the tree builds, with the "nvme p2p" plugin.
P2P_NVME=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tools/nvme-cli/nvme

# p2p_info nvmeN [JQ-FILTER]: a controller's export state, "nvme p2p info
# -o json" through jq -r (default filter: the whole object on one line).
p2p_info() {
	"$P2P_NVME" p2p info "/dev/$1" -o json | jq -r "${2:-tojson}"
}
