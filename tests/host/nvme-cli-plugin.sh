#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The nvme binary with the p2p plugin (tools/nvme-cli): built, lists the p2p
# subcommands, their options and man pages; each file of the plugin compiles
# cleanly with -Wall -Wextra; a rebuild with nothing changed compiles
# nothing; a device that is no NVMe controller is refused.
. "$(dirname "$0")/../tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${NVMEP2P_BUILDDIR:-$top}
nvme=$build/tools/nvme-cli/nvme
work=$build/tools/nvme-cli/build
[ -x "$nvme" ] || bail "$nvme built (make builds it)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

subcommands="info peers list queue create-region create-queue"

out=$("$nvme" p2p help); rc=$?
is "$rc" 0 "nvme p2p help exits 0"
for s in $subcommands; do
	ok "nvme p2p help lists $s" grep -Eq "^  $s +[A-Z]" <<<"$out"
done
ok "nvme help lists the p2p plugin" grep -Eq '^  p2p +NVMe peer-to-peer export' <<<"$("$nvme" help)"
ok "nvme p2p version is 2.3" grep -q '^nvme p2p version 2.3 ' <<<"$("$nvme" p2p version)"
ok "the built-in commands are still there (show-regs)" grep -Eq '^  show-regs ' <<<"$("$nvme" help)"

# opts SUBCOMMAND: its --help (usage goes to stderr).
opts() { "$nvme" p2p "$1" --help 2>&1; }
for s in $subcommands; do
	ok "$s --help offers --output-format" grep -q -- '--output-format=<FMT>, -o <FMT>' <<<"$(opts "$s")"
done
for s in info list queue; do
	ok "$s --help offers --human-readable" grep -q -- '--human-readable, -H' <<<"$(opts "$s")"
done
ok "queue --help offers --qid" grep -q -- '--qid=<NUM>, -q <NUM>' <<<"$(opts queue)"
ok "peers --help offers --peer" grep -q -- '--peer=<STRING>, -p <STRING>' <<<"$(opts peers)"
for s in create-region create-queue; do
	ok "$s --help offers --hold" grep -q -- '--hold=<NUM>, -t <NUM>' <<<"$(opts "$s")"
done

# Man pages: clean troff, and "nvme p2p help CMD" finds them.
mkdir -p "$tmp/man/man1"
for page in nvme-p2p $(printf 'nvme-p2p-%s ' $subcommands); do
	src=$top/tools/nvme-cli/man/$page.1
	warnings=$(groff -man -ww -z "$src" 2>&1)
	ok "$page.1 formats without warnings" test -z "$warnings"
	[ -z "$warnings" ] || diag "$warnings"
	ln -s "$src" "$tmp/man/man1/$page.1"
done
for s in $subcommands; do
	out=$(MANPATH=$tmp/man MANPAGER=cat MANWIDTH=80 "$nvme" p2p help "$s" 2>&1)
	ok "nvme p2p help $s shows its man page" grep -Eq "^ *nvme-p2p-$s +- " <<<"$out"
done

# The plugin alone, with the warnings the project asks for, against the
# same unpacked nvme-cli tree and configuration as the build.
if [ -f "$work/build/config.h" ]; then
	for f in "$top"/tools/nvme-cli/p2p-*.c; do
		log=$(cc -std=gnu99 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror \
			-I"$work/build" -I"$work/src" -I"$work/src/ccan" -I"$top/uapi" \
			$(pkg-config --cflags json-c libnvme libnvme-mi) -include config.h \
			-c -o /dev/null "$f" 2>&1)
		ok "${f##*/} builds with -Wall -Wextra -Werror" test -z "$log"
		[ -z "$log" ] || diag "$log"
	done
else
	tap_result 1 "the nvme-cli build tree $work is there"
fi

# Nothing changed: the cached tree is reused and ninja has nothing to do.
"$top/tools/nvme-cli/build-nvme-cli" "$work" "$tmp/nvme" >"$tmp/rebuild" 2>&1
is "$?" 0 "build-nvme-cli again exits 0"
ok "and compiles nothing" grep -q 'ninja: no work to do' "$work/ninja.log"
ok "nor fetches the source again" test ! -s "$tmp/rebuild"
cmp -s "$tmp/nvme" "$nvme"
is "$?" 0 "and gives the same binary"

"$nvme" p2p info /dev/null 2>"$tmp/err"
is "$?" 1 "info /dev/null exits 1"
ok "saying /dev/null is not an NVMe controller" grep -q "^/dev/null is not an NVMe controller" "$tmp/err"

done_testing
