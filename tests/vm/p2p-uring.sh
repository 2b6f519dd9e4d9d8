#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: io_uring-p2p-buffers
# io_uring fixed buffers in CMB regions (the io_uring importer): the
# example copy program (tools/uring/nvmep2p-uring-copy) through the CMB and
# through host memory with --check, its error messages, then
# tests/vm/p2p_uring.c: a 64 MiB data0 -> CMB -> p2p0 copy, a mixed table,
# unreachable and unsupported targets, registration errors, revocation by
# reset, munmap and unbind, and no leak (process exit with I/O in flight).
. "$(dirname "$0")/lib.sh"
build=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$build/tests/vm/p2p_uring
copy=$build/tools/uring/nvmep2p-uring-copy
[ -x "$bin" ] || bail "$bin built (make check builds it)"
[ -x "$copy" ] || bail "$copy built (make builds it)"
cmb=$(ctrl_by_serial $SERIAL_CMB) || bail "controller $SERIAL_CMB present"
data=$(ctrl_by_serial $SERIAL_DATA) || bail "controller $SERIAL_DATA present"
root=$(ctrl_by_serial $SERIAL_ROOT) || bail "controller $SERIAL_ROOT present"
cmb_ns=/dev/$(ns_of_ctrl "$cmb") || bail "namespace of $cmb"
data_ns=/dev/$(ns_of_ctrl "$data") || bail "namespace of $data"
root_ns=/dev/$(ns_of_ctrl "$root") || bail "namespace of $root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The CMB bytes not allocated (NVME_P2P_IOCTL_INFO's cmb_free is the same).
cmb_free() { cat "/sys/class/nvme/$cmb/device/p2pmem/available"; }
free0=$(cmb_free)

# 16 MiB of random bytes at 128 MiB on data0, copied to 128 MiB on p2p0.
dd if=/dev/urandom of="$data_ns" bs=1M count=16 seek=128 oflag=direct status=none
ok "16 MiB of random data written to $data_ns" test $? = 0
for through in cmb host; do
	# The destination starts out different from the source.
	dd if=/dev/zero of="$cmb_ns" bs=1M count=16 seek=128 oflag=direct status=none
	args=(--through "$through")
	[ $through = cmb ] && args+=(--cmb "serial:$SERIAL_CMB")
	out=$("$copy" "${args[@]}" --src-offset 128m --dst-offset 128m --size 16m \
		--chunk 128k --qd 16 --check --json "$data_ns" "$cmb_ns" 2>"$tmp/err")
	rc=$?
	ok "nvmep2p-uring-copy --through $through --check: exit $rc" test "$rc" = 0
	[ "$rc" = 0 ] || sed 's/^/#   /' "$tmp/err"
	is "$(echo "$out" | jq -r '[.through, .bytes, .chunk, .qd, .check] | join(" ")' 2>/dev/null)" \
		"$through 16777216 131072 16 pass" "--through $through: the JSON reports the copy and the check"
	[ $through = cmb ] && is "$(echo "$out" | jq -r .cmb 2>/dev/null)" "$cmb" \
		"--through cmb: the buffer was in $cmb's CMB"
	diag "$(echo "$out" | jq -c '{through, seconds, mb_per_s}' 2>/dev/null)"
	# (The guest's /dev has no /dev/fd: no <(...) here.)
	dd if="$data_ns" of="$tmp/src" bs=1M skip=128 count=16 iflag=direct status=none
	dd if="$cmb_ns" of="$tmp/dst" bs=1M skip=128 count=16 iflag=direct status=none
	ok "--through $through: cmp of the two ranges agrees" cmp -s "$tmp/src" "$tmp/dst"
	rm -f "$tmp/src" "$tmp/dst"
done
is "$(cmb_free)" "$free0" "the copies left the CMB's free bytes as they were ($free0)"

# Default --cmb: the destination's controller, since it has the CMB.
out=$("$copy" --src-offset 128m --dst-offset 160m --size 1m --json "$data_ns" "$cmb_ns" 2>"$tmp/err")
is "$(echo "$out" | jq -r '.through + " " + .cmb' 2>/dev/null)" "cmb $cmb" \
	"without --cmb the buffer goes to the destination's controller's CMB"

# Errors name the step and the errno.
"$copy" --cmb serial:$SERIAL_CMB --size 1m "$root_ns" "$cmb_ns" >/dev/null 2>"$tmp/err"
rc=$?
ok "a copy from $root_ns (root bus) through the CMB fails: exit $rc" test "$rc" = 1
ok "and says it was the READ_FIXED of $root_ns, EREMOTEIO: $(head -1 "$tmp/err")" \
	grep -q "read (READ_FIXED) of $root_ns at offset 0 .*(EREMOTEIO)" "$tmp/err"
"$copy" --cmb serial:$SERIAL_DATA --size 1m "$data_ns" "$cmb_ns" >/dev/null 2>"$tmp/err"
rc=$?
ok "--cmb naming a controller without a CMB fails: exit $rc, $(head -1 "$tmp/err")" \
	grep -q "create a CMB region of .* on $data: .*(ENODEV)" "$tmp/err"
"$copy" --chunk 100 "$data_ns" "$cmb_ns" >/dev/null 2>"$tmp/err"
ok "a chunk that is not a multiple of the block size is refused: $(head -1 "$tmp/err")" \
	grep -q "not a multiple of the logical block size" "$tmp/err"
is "$(cmb_free)" "$free0" "failed copies left the CMB's free bytes as they were"

# The C test's points continue this stream's numbering, as they come.
mkfifo "$tmp/c.tap"
"$bin" "$cmb_ns" "$data_ns" "$root_ns" >"$tmp/c.tap" 2>&1 &
c_pid=$!
while IFS= read -r line; do
	case "$line" in
	"ok "*|"not ok "*)
		pre=${line%%ok *}
		tap_count=$((tap_count + 1))
		[ -n "$pre" ] && tap_failed=$((tap_failed + 1))
		echo "${pre}ok $tap_count - ${line#* - }" ;;
	1..*) ;;
	*) echo "$line" ;;
	esac
done <"$tmp/c.tap"
wait "$c_pid"
rc=$?
[ "$rc" = 0 ] || [ "$tap_failed" -gt 0 ] || tap_result 1 "p2p_uring exited $rc"
done_testing
