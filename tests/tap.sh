# SPDX-License-Identifier: GPL-2.0
# TAP helpers for the shell tests (host and VM). Source it; the plan is
# printed at the end by done_testing, so tests need not count in advance.
tap_count=0
tap_failed=0

tap_result() { # status description [directive]
	tap_count=$((tap_count + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_count - $2${3:+ # $3}"
	else
		echo "not ok $tap_count - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# ok DESCRIPTION COMMAND...: passes when COMMAND exits 0.
ok() {
	local desc=$1; shift
	if "$@"; then tap_result 0 "$desc"; else tap_result 1 "$desc"; fi
}

# is GOT WANT DESCRIPTION: passes when the strings are equal.
is() {
	if [ "$1" = "$2" ]; then
		tap_result 0 "$3"
	else
		tap_result 1 "$3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
	fi
}

skip() { tap_result 0 "$1" "SKIP $2"; }
diag() { echo "# $*"; }

# bail REASON: the test cannot go on; counts as one failure.
bail() {
	tap_result 1 "$1"
	done_testing
}

done_testing() {
	echo "1..$tap_count"
	[ "$tap_failed" = 0 ] && exit 0
	exit 1
}
