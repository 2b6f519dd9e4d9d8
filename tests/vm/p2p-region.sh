#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-export-CMB-data-regions-as-peer-to-peer
# CMB data regions through the nvme-p2p uapi (tests/vm/p2p_region.c).
bin=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/vm/p2p_region
[ -x "$bin" ] || { echo "not ok 1 - $bin not built (make check builds it)"; echo "1..1"; exit 1; }
. "$(dirname "$0")/lib.sh"
with_p2p_map_test "$bin"
