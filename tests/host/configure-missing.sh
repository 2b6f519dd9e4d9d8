#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# configure names the Debian package that provides a missing tool.
. "$(dirname "$0")/../tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$top/configure" ] || { skip "configure reports missing tools" "run ./autogen.sh first"; done_testing; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

# A PATH with every tool of this machine except jq and busybox.
mkdir "$d/bin" "$d/build"
# A copy of the source: configure refuses a VPATH build of a configured tree.
tar -C "$top" --exclude=.git --exclude=./Makefile --exclude=./config.status \
	--exclude=./config.log --exclude=./test-results -cf - . | tar -C "$d/build" -xf -
for dir in /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do
	for t in "$dir"/*; do
		n=${t##*/}
		case "$n" in jq|busybox) continue ;; esac
		[ -e "$d/bin/$n" ] || ln -s "$t" "$d/bin/$n"
	done
done
out=$(cd "$d/build" && PATH=$d/bin ./configure 2>&1); rc=$?
ok "configure fails without jq and busybox (exit $rc)" test "$rc" != 0
ok "it names the jq package" grep -q "jq not found: apt-get install jq" <<<"$out"
ok "it names busybox-static" grep -q "busybox not found: apt-get install busybox-static" <<<"$out"
ok "it prints one install line for both" grep -Eq "apt-get install .*jq.*busybox-static|apt-get install .*busybox-static.*jq" <<<"$out"

out=$(cd "$d/build" && ./configure 2>&1); rc=$?
is "$rc" 0 "with every tool present configure succeeds"
done_testing
