#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/tap-summary counts points and judges scripts correctly.
. "$(dirname "$0")/../tap.sh"
summary=$(dirname "$0")/../tap-summary
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

mk() { # dir name rc tap-text
	mkdir -p "$d/$1"; printf '%b' "$4" >"$d/$1/$2.tap"; echo "$3" >"$d/$1/$2.rc"
}

mk good a 0 'ok 1 - x\nok 2 - y # SKIP no edu\n1..2\n'
mk good b 0 '1..1\nok 1 - z\n'
out=$("$summary" "$d/good"); rc=$?
is "$(echo "$out" | tail -1)" "2 passed, 0 failed, 1 skipped" "passes and skips counted"
is "$rc" 0 "all-pass exits 0"

mk bad a 0 'ok 1 - x\nnot ok 2 - y\n1..2\n'
out=$("$summary" "$d/bad"); rc=$?
is "$(echo "$out" | tail -1)" "1 passed, 1 failed" "a failed point is counted"
is "$rc" 1 "a failure exits 1"

mk crash a 139 'ok 1 - x\n'
out=$("$summary" "$d/crash")
is "$(echo "$out" | tail -1)" "1 passed, 1 failed" "a crash after passing points is a failure"
ok "the crash is explained" grep -q "exit code 139" <<<"$out"

mk short a 0 '1..3\nok 1 - x\n'
out=$("$summary" "$d/short")
is "$(echo "$out" | tail -1)" "1 passed, 1 failed" "a plan not met is a failure"

mkdir -p "$d/empty"
out=$("$summary" "$d/empty" 2>/dev/null); rc=$?
is "$rc/$(echo "$out" | tail -1)" "1/0 passed, 1 failed" "no results at all is a failure, not a pass"
done_testing
