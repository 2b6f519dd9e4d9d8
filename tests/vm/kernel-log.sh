#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: mm-add-p2p_map-and-p2p_unmap-to-vm_operations_struct
# Runs last: the kernel logged no warning, bug or oops during the VM tests.
. "$(dirname "$0")/lib.sh"

# On the debug kernel (tests/run-debug), kmemleak scans first: what it
# finds unreferenced now is a leak of some test's kernel path.
leaks=
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak	# twice: settle the grey objects
	leaks=$(cat /sys/kernel/debug/kmemleak)
	ok "kmemleak: no unreferenced object" test -z "$leaks"
	[ -z "$leaks" ] || echo "$leaks" | head -40 | sed 's/^/# /'
fi
# Lockdep and debugobjects reports come as WARNING: lines (ODEBUG too); the
# hung-task detector's as "blocked for more than".
log=$(dmesg)
bad=$(grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|kernel BUG|UBSAN|KASAN|ODEBUG:|blocked for more than' <<<"$log")
ok "no kernel warnings, bugs, oopses or hung tasks in the log" test -z "$bad"
[ -z "$bad" ] || echo "$bad" | head -20 | sed 's/^/# /'
# The exports never disturbed the controller's own bring-up: a reset kept
# every I/O queue and namespace of nvme-pci.
lost=$(grep -E 'Could not set queue count|IO queues lost|lost its queue ID' <<<"$log")
ok "no controller lost its I/O queues or an exported queue its ID" test -z "$lost"
[ -z "$lost" ] || echo "$lost" | head -20 | sed 's/^/# /'
done_testing
