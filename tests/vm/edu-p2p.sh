#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-export-CMB-data-regions-as-peer-to-peer
# A peer device imports CMB data regions: tests/kmod/edu_p2p.ko binds the
# edu devices, tests/vm/edu_p2p.c drives it (see both for what is checked).
. "$(dirname "$0")/lib.sh"
bin=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/vm/edu_p2p
[ -x "$bin" ] || bail "$bin not built (make check builds it)"
[ -f "$(kmod_dir "$bin")/edu_p2p.ko" ] || bail "edu_p2p.ko not built (make test-modules)"
with_edu_p2p "$bin"
