#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# CMB data regions through the nvme-p2p uapi (tests/vm/p2p_region.c).
bin=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/vm/p2p_region
[ -x "$bin" ] || { echo "not ok 1 - $bin not built (make check builds it)"; echo "1..1"; exit 1; }
# The p2p_map test module, and the edu peers as importers.
. "$(dirname "$0")/lib.sh"
ko=$(dirname "$bin")/../kmod/p2p_map_test.ko
if [ -f "$ko" ] && insmod "$ko"; then
	for e in $(pci_devs_by_id $EDU_ID); do
		if on_root_bus "$e"; then
			export EDU_ROOT_BUS=${e##*/}
		else
			export EDU_SWITCH=${e##*/}
		fi
	done
fi
"$bin"
rc=$?
rmmod p2p_map_test 2>/dev/null
exit $rc
