#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-list-a-controller-s-exports
# libnvmep2p on the testbed's CMB controller (tests/vm/lib_queue.c): real
# I/O through exported queues, status names, queue full, controller reset
# and resync, the library's argument checks against the live kernel.
. "$(dirname "$0")/lib.sh"
build=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$build/tests/vm/lib_queue
[ -x "$bin" ] || bail "$bin built (make check builds it)"
c=$(ctrl_by_serial $SERIAL_CMB) || bail "CMB controller present"
n=$(ns_of_ctrl "$c") || bail "namespace of $c present"
exec "$bin" "$SERIAL_CMB" "$c" "/dev/$n"
