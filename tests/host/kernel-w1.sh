#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The project's new kernel C files build without warnings at W=1, their
# kernel-doc parses without warnings, and the hooked mm.h gains none.
. "$(dirname "$0")/../tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${NVMEP2P_CACHE:-/var/cache/nvme-p2p}
tree=$cache/src/linux
out=$cache/out/testbed
[ -f "$out/.config" ] || { skip "W=1 and kernel-doc checks" "no kernel build in $cache (run make kernel)"; done_testing; }

files=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/kernel/files" | awk '{print $2}')
for f in $(echo "$files" | grep '\.c$'); do
	log=$(cd "$tree" && make -s O="$out" W=1 CC="ccache gcc" "${f%.c}.o" 2>&1)
	ok "W=1 build of $f has no warnings" test -z "$log"
	[ -z "$log" ] || echo "$log" | head -20 | sed 's/^/# /'
done

kdoc() { # file: its kernel-doc warnings, without line numbers
	(cd "$tree" && PATH=/usr/bin:$PATH scripts/kernel-doc -Wall -none "$1" 2>&1) |
		sed -E 's/^[^:]*:[0-9]+: //' | sort
}
for f in $(echo "$files" | grep -E '\.[ch]$'); do
	log=$(kdoc "$f")
	ok "kernel-doc -Wall of $f has no warnings" test -z "$log"
	[ -z "$log" ] || echo "$log" | head -20 | sed 's/^/# /'
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$tree" show base:include/linux/mm.h >"$tmp/mm.h"
new=$(comm -13 <(kdoc "$tmp/mm.h") <(kdoc include/linux/mm.h))
ok "kernel-doc -Wall of include/linux/mm.h: no warning the base lacks" test -z "$new"
[ -z "$new" ] || echo "$new" | head -20 | sed 's/^/# /'
done_testing
