#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/testbed/run-vm refuses bad arguments with a message and exit code 2.
. "$(dirname "$0")/../tap.sh"
run_vm=$(dirname "$0")/../testbed/run-vm

out=$("$run_vm" --no-such-option 2>&1); rc=$?
is "$rc" 2 "unknown option exits 2"
ok "and names the option" grep -q "unknown option '--no-such-option'" <<<"$out"

out=$("$run_vm" --timeout soon true 2>&1); rc=$?
is "$rc" 2 "non-numeric timeout exits 2"
ok "and says what it wants" grep -q "wants seconds" <<<"$out"

out=$("$run_vm" --kernel /nonexistent/bzImage true 2>&1); rc=$?
is "$rc" 2 "missing kernel exits 2"
ok "and says to run make kernel" grep -q "make kernel" <<<"$out"

out=$("$run_vm" --help); rc=$?
ok "--help documents the topology" grep -q "serial p2p0" <<<"$out"
done_testing
