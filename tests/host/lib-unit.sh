#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# libnvmep2p's pure parts on the host (tests/host/lib_unit.c): SQE builders,
# PRP lists, CIDs, phase-bit reaping and doorbells on rings in plain memory,
# status names, argument checks.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${NVMEP2P_BUILDDIR:-$top}/tests/host/lib_unit
[ -x "$bin" ] || { echo "not ok 1 - $bin not built (make check builds it)"; echo "1..1"; exit 1; }
exec "$bin"
