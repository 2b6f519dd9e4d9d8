#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-list-a-controller-s-exports
# The peer scenario: the edu behind the switch drives an exported queue
# pair (SQ in the CMB, doorbells) by DMA only (tests/vm/peer_queue.c).
. "$(dirname "$0")/lib.sh"
bin=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/vm/peer_queue
[ -x "$bin" ] || bail "$bin not built (make check builds it)"
[ -f "$(kmod_dir "$bin")/edu_p2p.ko" ] || bail "edu_p2p.ko not built (make test-modules)"
with_edu_p2p "$bin"
