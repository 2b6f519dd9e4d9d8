#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-list-a-controller-s-exports
# A controller reset under a running nvmep2p job: the kernel re-creates the
# job's queue, the engine resynchronises (the commands the reset lost fail
# with EIO, which continue_on_error lets the job carry on from), I/O goes on
# through the same queue until the job's end, and nothing stays exported.
. "$(dirname "$0")/lib.sh"
build=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
engine=$build/fio-engine/.libs/nvmep2p.so
[ -f "$engine" ] || bail "$engine not built (make builds it)"
[ -x "$P2P_NVME" ] || bail "$P2P_NVME built (make builds it)"
ctrl=$(ctrl_by_serial $SERIAL_CMB) || bail "controller $SERIAL_CMB present"
reserved=$(p2p_info "$ctrl" .queues_reserved)
[ "${reserved:-0}" -gt 0 ] || bail "$ctrl has queues reserved for export (nvme.p2p_queues)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# wait_live: the controller is live again (at most 30 s).
wait_live() {
	local i
	for i in $(seq 300); do
		[ "$(cat /sys/class/nvme/$ctrl/state)" = live ] && return 0
		sleep 0.1
	done
	return 1
}

for sq in cmb host; do
	name=reset-sq-$sq
	fio --name=$name --ioengine=external:"$engine" --controller=serial:$SERIAL_CMB \
		--sq_placement=$sq --rw=randread --bs=4k --iodepth=8 --size=64M \
		--time_based --runtime=8 --continue_on_error=io --eta=never \
		--write_iops_log="$tmp/$name" --log_avg_msec=500 \
		--output-format=json --output="$tmp/$name.json" 2>"$tmp/$name.err" &
	fio_pid=$!
	# The job's queue is there once the controller counts it.
	for _ in $(seq 100); do
		[ "$(p2p_info "$ctrl" .queues_used)" = 1 ] && break
		sleep 0.1
	done
	sleep 1
	echo 1 >/sys/class/nvme/$ctrl/reset_controller
	ok "$name: $ctrl resets and is live again" wait_live
	wait "$fio_pid"
	rc=$?
	ios=$(jq -r '.jobs[0].read.total_ios' "$tmp/$name.json" 2>/dev/null)
	runtime=$(jq -r '.jobs[0].read.runtime' "$tmp/$name.json" 2>/dev/null)
	lost=$(grep -c "nvmep2p: $ctrl qid [0-9]*: controller reset, [0-9]* commands lost" "$tmp/$name.err")
	ok "$name: fio exit $rc, the engine saw the reset ($lost line), no other error" \
		test "$rc" = 0 -a "$lost" = 1
	ok "$name: the job ran its 8 s ($runtime ms) and did $ios reads" \
		test "${runtime:-0}" -ge 7500 -a "${ios:-0}" -gt 0
	# The reset came at about 2 s: reads completed in the last 2 s too.
	late=$(awk -F', ' '$1 >= 6000 && $2 > 0 { n++ } END { print n + 0 }' "$tmp/${name}_iops".*log 2>/dev/null)
	ok "$name: reads went on after the reset ($late half-second intervals after 6 s)" \
		test "$late" -gt 0
	if [ "$rc" != 0 ] || [ "$lost" != 1 ]; then
		head -20 "$tmp/$name.err" | sed 's/^/#   /'
	fi
	is "$(p2p_info "$ctrl" '"\(.regions) \(.queues_used)"')" "0 0" "$name: no region or queue left on $ctrl"
done

done_testing
