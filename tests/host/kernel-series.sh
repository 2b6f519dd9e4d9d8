#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The kernel patch stack is well formed and is the one source of truth:
# every patch in kernel/series exists, says "subsystem: summary", is signed
# off and reviewable in one sitting (at most 800 changed lines); the
# whole-file views in nvme/, mm/, block/ and uapi/ are what the stack makes
# of them; the emitted series is one patch per entry plus a filled-in cover
# letter, each patch clean under checkpatch.pl --strict.
. "$(dirname "$0")/../tap.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${NVMEP2P_CACHE:-/var/cache/nvme-p2p}
mapfile -t patches < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/kernel/series")

ok "kernel/series lists patches" test ${#patches[@]} -gt 0
for p in "${patches[@]}"; do
	f=$top/kernel/patches/$p
	if ! [ -f "$f" ]; then
		tap_result 1 "$p exists in kernel/patches"
		continue
	fi
	subject=$(sed -n 's/^Subject: \[PATCH\] //p' "$f" | head -1)
	ok "$p: subject '$subject' is 'subsystem: summary'" grep -Eq '^[A-Za-z0-9/_.-]+(: [A-Za-z0-9/_.-]+)*: [a-zA-Z]' <<<"$subject"
	ok "$p: has a Signed-off-by" grep -q '^Signed-off-by: ' "$f"
	lines=$(grep -cE '^[-+]([^-+]|$)' "$f")
	ok "$p: $lines changed lines, at most 800" test "$lines" -le 800
done
extra=$(cd "$top/kernel/patches" && ls | grep -vxF -f <(printf '%s\n' "${patches[@]}") || true)
is "$extra" "" "kernel/patches holds nothing kernel/series does not list"

views=$("$top/kernel/stack" check-views 2>&1)
ok "the whole-file views agree with the patch stack" test $? = 0
[ -z "$views" ] || echo "$views" | sed 's/^/# /'

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! [ -d "$cache/src/linux/.git" ]; then
	skip "series emitted and checkpatch clean" "no kernel tree in $cache (run make kernel)"
	done_testing
fi
"$top/kernel/build.sh" --series "$out" >/dev/null 2>&1
ok "kernel/build.sh --series succeeds" test $? = 0
is "$(ls "$out"/0*.patch 2>/dev/null | grep -vc '/0000-cover-letter.patch$')" "${#patches[@]}" "one patch per stack entry"
ok "the cover letter is filled in" sh -c "! grep -q 'HERE \*\*\*' '$out/0000-cover-letter.patch' && grep -q '^Subject: \[PATCH 00/' '$out/0000-cover-letter.patch'"
for p in "$out"/0*.patch; do
	[ "$(basename "$p")" = 0000-cover-letter.patch ] && continue
	# Debian's python3 (with python3-ply) for spdxcheck.py, not another on PATH.
	res=$(cd "$cache/src/linux" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict -q "$p" 2>&1)
	ok "checkpatch --strict clean: $(basename "$p")" test -z "$res"
	[ -z "$res" ] || echo "$res" | head -20 | sed 's/^/# /'
done
done_testing
