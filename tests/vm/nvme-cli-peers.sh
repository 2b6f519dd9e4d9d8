#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-export-queues
# nvme p2p peers: every PCI device is listed; the edu and the data NVMe behind
# the CMB controller's switch reach it via the switch (p2pdma distance 4), the
# edu and the NVMe on the root bus do not reach it at all; --peer asks about
# one device.
. "$(dirname "$0")/lib.sh"
nvme=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tools/nvme-cli/nvme
[ -x "$nvme" ] || bail "$nvme built (make builds it)"

c=$(ctrl_by_serial $SERIAL_CMB) || bail "CMB controller present"
pci=$(pci_dev_of_ctrl "$c")
up=$(upstream_port "$pci")
for e in $(pci_devs_by_id $EDU_ID); do
	if [ "$(upstream_port "$e")" = "$up" ]; then switch_edu=${e##*/}; fi
	if on_root_bus "$e"; then root_edu=${e##*/}; fi
done
[ -n "${switch_edu:-}" ] && [ -n "${root_edu:-}" ] || bail "an edu behind the switch and one on the root bus"
data_nvme=$(basename "$(pci_dev_of_ctrl "$(ctrl_by_serial $SERIAL_DATA)")")
root_nvme=$(basename "$(pci_dev_of_ctrl "$(ctrl_by_serial $SERIAL_ROOT)")")

out=$("$nvme" p2p peers "/dev/$c" -o json); rc=$?
is "$rc" 0 "peers /dev/$c -o json exits 0"
jq -e . >/dev/null <<<"$out" || bail "peers prints JSON"
is "$(jq -r .device <<<"$out")" "$c" "device is $c"
is "$(jq -r '.peers | length' <<<"$out")" "$(ls /sys/bus/pci/devices | wc -l)" \
	"one entry per PCI device in /sys/bus/pci/devices"
is "$(jq -r '[.peers[] | select(.self)] | map(.pci_address) | join(" ")' <<<"$out")" "${pci##*/}" \
	"exactly one entry is the controller itself"
is "$(jq -r '[.peers[] | select((.reach == "unreachable") != (.distance < 0))] | length' <<<"$out")" 0 \
	"unreachable exactly when the distance is negative"
is "$(jq -r '[.peers[] | select(.reachable != (.reach != "unreachable"))] | length' <<<"$out")" 0 \
	"reachable agrees with reach"

# peer_is ADDR: prints "reach distance reachable" of that entry.
peer_is() { jq -r --arg a "$1" '.peers[] | select(.pci_address == $a) | "\(.reach) \(.distance) \(.reachable)"' <<<"$out"; }
is "$(peer_is "$switch_edu")" "switch 4 true" "edu behind the switch ($switch_edu): via the switch, distance 4"
is "$(peer_is "$data_nvme")" "switch 4 true" "data NVMe behind the switch ($data_nvme): via the switch, distance 4"
is "$(peer_is "$root_edu")" "unreachable -1 false" "edu on the root bus ($root_edu): unreachable"
is "$(peer_is "$root_nvme")" "unreachable -1 false" "NVMe on the root bus ($root_nvme): unreachable"
is "$(jq -r --arg a "$switch_edu" '.peers[] | select(.pci_address == $a) | "\(.vendor):\(.device)"' <<<"$out")" \
	"0x1234:0x11e8" "the edu's vendor and device IDs"
drv=$(basename "$(readlink "/sys/bus/pci/devices/$data_nvme/driver")")
is "$(jq -r --arg a "$data_nvme" '.peers[] | select(.pci_address == $a) | .driver' <<<"$out")" "$drv" \
	"the data NVMe's driver is $drv"

one=$("$nvme" p2p peers "/dev/$c" --peer "$switch_edu" -o json)
is "$(jq -r '[.peers[] | "\(.pci_address) \(.reach) \(.distance)"] | join(",")' <<<"$one")" \
	"$switch_edu switch 4" "--peer $switch_edu: just that device"
one=$("$nvme" p2p peers "/dev/$c" --peer "${root_edu#0000:}" -o json)
is "$(jq -r '[.peers[] | "\(.pci_address) \(.reach)"] | join(",")' <<<"$one")" \
	"$root_edu unreachable" "--peer ${root_edu#0000:} (no domain): just that device"

n=$("$nvme" p2p peers "/dev/$c")
ok "normal output: the switch edu, reach and distance" \
	grep -Eq "^$switch_edu +1234:11e8 .* switch +4\$" <<<"$n"
ok "normal output: the root-bus edu is unreachable" \
	grep -Eq "^$root_edu +1234:11e8 .* unreachable +-1\$" <<<"$n"
ok "normal output marks the controller itself" grep -q "^${pci##*/} .*(this controller)\$" <<<"$n"

done_testing
