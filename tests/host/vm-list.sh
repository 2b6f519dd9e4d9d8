#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM test list (tests/vm/tests.list) and what tests/vm/run reads from
# it: every entry exists and names a series entry of kernel/series, every
# VM test is listed, the kernel log check runs last; the kselftest harness
# comes from the pinned kernel tree or, without one, from its tarball.
. "$(dirname "$0")/../tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
vm=$top/tests/vm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

entries=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$vm/tests.list")
series=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/^[0-9][0-9][0-9][0-9]-//' -e 's/\.patch$//' "$top/kernel/series")
missing= noseries=
while read -r name prog _; do
	case $prog in
	@*) [ -f "$vm/${prog#@}.c" ] || missing="$missing $name" ;;
	*)  [ -x "$vm/$prog" ] || missing="$missing $name" ;;
	esac
done <<<"$entries"
is "${missing# }" "" "every entry of tests.list is a script or a C test program"
listed=$("$vm/run" --list)
while read -r name entry; do
	grep -qx -- "$entry" <<<"$series" || noseries="$noseries $name(${entry:-none})"
done <<<"$listed"
is "${noseries# }" "" "every VM test names an entry of kernel/series"
unlisted=
for t in "$vm"/*.sh; do
	n=$(basename "$t" .sh)
	[ "$n" = lib ] && continue
	grep -q "^$n " <<<"$listed" || unlisted="$unlisted $n.sh"
done
# A C test program is listed itself, or run by a listed script.
for c in $(grep -l '^/\* series: ' "$vm"/*.c); do
	p=$(basename "$c" .c)
	grep -q "@$p\b" <<<"$entries" || grep -q "tests/vm/$p\b" "$vm"/*.sh ||
		unlisted="$unlisted $p.c"
done
is "${unlisted# }" "" "every VM test script and C test program is listed (or run by a listed script)"
is "$(tail -n 1 <<<"$listed" | cut -d' ' -f1)" kernel-log "the kernel log check runs last"

NVMEP2P_CACHE=$tmp/no-cache "$vm/kselftest-harness" "$tmp/ks" 2>"$tmp/err"
is "$?" 0 "kselftest-harness without a kernel tree takes the tarball's"
ok "kselftest_harness.h and kselftest.h are there" \
	grep -q 'TEST_HARNESS_MAIN' "$tmp/ks/kselftest_harness.h" "$tmp/ks/kselftest.h"
done_testing
