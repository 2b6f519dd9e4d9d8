#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series: nvme-pci-p2p-export-queues
# nvme p2p list, create-region, create-queue: objects held by create-* in the
# background show up in list (owner pid, qid, placement, addresses, state)
# and in info's counters, and vanish when their holder exits; the reserved
# queue IDs run out with EBUSY.
. "$(dirname "$0")/lib.sh"
nvme=${NVMEP2P_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tools/nvme-cli/nvme
[ -x "$nvme" ] || bail "$nvme built (make builds it)"

c=$(ctrl_by_serial $SERIAL_CMB) || bail "CMB controller present"
tmp=$(mktemp -d)
holders=()
cleanup() {
	[ ${#holders[@]} = 0 ] || kill -TERM "${holders[@]}" 2>/dev/null
	wait
	rm -rf "$tmp"
}
trap cleanup EXIT

# hold NAME ARGS...: run "nvme p2p ARGS --hold 300 -o json" in the background
# and wait for its JSON (in $tmp/NAME); the holder's pid is in held_pid.
hold() {
	local name=$1 i
	shift
	"$nvme" p2p "$@" --hold 300 -o json >"$tmp/$name" 2>"$tmp/$name.err" &
	held_pid=$!
	holders+=("$held_pid")
	for i in $(seq 600); do	# 60 s: a slow start under TCG on a loaded host
		jq -e . "$tmp/$name" >/dev/null 2>&1 && return 0
		kill -0 "$held_pid" 2>/dev/null || break
		sleep 0.1
	done
	diag "nvme p2p $*: $(cat "$tmp/$name.err")"
	return 1
}

# release PID: stop a holder; it must exit 0.
release() {
	kill -TERM "$1"
	wait "$1"
}

list() { "$nvme" p2p list "/dev/$c" -o json; }
info() { "$nvme" p2p info "/dev/$c" -o json; }

out=$(list); rc=$?
is "$rc" 0 "list /dev/$c -o json exits 0"
is "$(jq -c '[.device, .queues, .regions]' <<<"$out")" "[\"$c\",[],[]]" "nothing exported at first"
ok "normal output says so" grep -qx "Exported queues of $c (.*): 0" <<<"$("$nvme" p2p list "/dev/$c")"

# A CMB region and a host region.
hold cmb create-region "/dev/$c" --size 2M || bail "create-region --size 2M --hold"
cmb_pid=$held_pid
hold host create-region "/dev/$c" --size 64K --host --no-cpu-map || bail "create-region --host --hold"
host_pid=$held_pid
out=$(list)
is "$(jq -r '.regions | length' <<<"$out")" 2 "two regions listed"
region() { jq -r --argjson p "$1" ".regions[] | select(.pid == \$p) | $2" <<<"$out"; }
is "$(region "$cmb_pid" '"\(.memory) \(.size) \(.state) \(.importers) \(.flags)"')" "cmb 2097152 live 0 0" \
	"CMB region: owner pid, memory, size, state, importers, flags"
is "$(region "$cmb_pid" .bus_addr)" "$(jq -r .bus_addr "$tmp/cmb")" "CMB region: the bus address create-region printed"
is "$(region "$cmb_pid" .comm)" nvme "CMB region: owner command"
is "$(region "$host_pid" '"\(.memory) \(.size) \(.state) \(.flags)"')" "host 65536 live 3" \
	"host region: memory, size, state, flags (host|no-cpu-map)"
is "$(region "$host_pid" .bus_addr)" "$(jq -r .bus_addr "$tmp/host")" "host region: the DMA address create-region printed"
is "$("$nvme" p2p list "/dev/$c" -o json -H | jq -r --argjson p "$host_pid" '.regions[] | select(.pid == $p) | .flag_names | join(",")')" \
	"no-cpu-map,host" "-H: flag names of the host region"
cmb_off=$(jq -r .cmb_offset "$tmp/cmb")
is "$(( $(jq -r .bus_addr "$tmp/cmb") - cmb_off ))" "$(( $(region "$cmb_pid" .bus_addr) - cmb_off ))" \
	"bus_addr - cmb_offset is the CMB's bus address"
ok "CMB region within the CMB" test "$((cmb_off + 2 * 1024 * 1024))" -le "$TESTBED_CMB_BYTES"
is "$(info | jq -r .regions)" 2 "info counts 2 regions"
n=$("$nvme" p2p list "/dev/$c")
ok "normal output lists the CMB region" grep -Eq "^ *$cmb_pid +nvme +live +cmb +2097152 " <<<"$n"
release "$cmb_pid"
is "$?" 0 "create-region exits 0 on SIGTERM"
release "$host_pid"
out=$(list)
is "$(jq -r '.regions | length' <<<"$out")" 0 "both regions gone once their holders exit"

# Exported queues.
info0=$(info)
first=$(jq -r .first_qid <<<"$info0") reserved=$(jq -r .queues_reserved <<<"$info0")
hold q1 create-queue "/dev/$c" --depth 32 || bail "create-queue --depth 32 --hold"
q1_pid=$held_pid q1=$(jq -r .qid "$tmp/q1")
ok "qid $q1 is one of the reserved $first..$((first + reserved - 1))" \
	test "$q1" -ge "$first" -a "$q1" -lt "$((first + reserved))"
is "$(jq -r '"\(.state) \(.generation) \(.depth) \(.sq_placement) \(.cq_placement) \(.pid)"' "$tmp/q1")" \
	"live 0 32 cmb host $q1_pid" "create-queue prints state, generation, depth, placement (SQ in the CMB: SQS), pid"
hold q2 create-queue "/dev/$c" --depth 16 --sq-placement host || bail "create-queue --sq-placement host --hold"
q2_pid=$held_pid q2=$(jq -r .qid "$tmp/q2")
ok "the second queue has another qid ($q2)" test "$q2" != "$q1"
out=$(list)
is "$(jq -r '[.queues[].qid] | map(tostring) | join(" ")' <<<"$out")" \
	"$(printf '%s\n' "$q1" "$q2" | sort -n | tr '\n' ' ' | sed 's/ $//')" "list shows both queues, by qid"
queue() { jq -r --argjson q "$1" ".queues[] | select(.qid == \$q) | $2" <<<"$out"; }
is "$(queue "$q1" '"\(.pid) \(.comm) \(.state) \(.generation) \(.depth) \(.sq_placement) \(.cq_placement) \(.importers)"')" \
	"$q1_pid nvme live 0 32 cmb host 0" "queue $q1: owner, state, generation, depth, placement, importers"
is "$(queue "$q1" '"\(.sq_addr) \(.cq_addr) \(.sq_bytes)"')" \
	"$(jq -r '"\(.sq_addr) \(.cq_addr) \(.sq_bytes)"' "$tmp/q1")" "queue $q1: the addresses and SQ size create-queue printed"
is "$(queue "$q1" '"\(.sq_head) \(.cq_tail)"')" "0 0" "queue $q1: nothing submitted, SQ head and CQ tail 0"
is "$(queue "$q2" '"\(.pid) \(.depth) \(.sq_placement)"')" "$q2_pid 16 host" "queue $q2: owner, depth, SQ in host memory"
is "$(info | jq -r .queues_used)" 2 "info: 2 queues used"
n=$("$nvme" p2p list "/dev/$c")
ok "normal output lists queue $q1" grep -Eq "^ *$q1 +$q1_pid +nvme +live +0 +32 +cmb +host " <<<"$n"

# The rest of the reserved IDs, then one too many.
more=()
for i in $(seq 3 "$reserved"); do
	hold "q$i" create-queue "/dev/$c" --depth 2 || break
	more+=("$held_pid")
done
is "$(list | jq -r '.queues | length')" "$reserved" "all $reserved reserved queue IDs in use"
"$nvme" p2p create-queue "/dev/$c" 2>"$tmp/busy"
is "$?" 1 "one more create-queue fails"
ok "with EBUSY, explained" grep -qF "NVME_P2P_IOCTL_QUEUE_CREATE: Device or resource busy (every queue ID reserved for export is in use)" "$tmp/busy"
for p in "${more[@]}"; do release "$p"; done

release "$q1_pid"
is "$?" 0 "create-queue exits 0 on SIGTERM"
out=$(list)
is "$(jq -r '[.queues[].qid] | map(tostring) | join(" ")' <<<"$out")" "$q2" "queue $q1 gone once its holder exits"
release "$q2_pid"
holders=()
is "$(list | jq -c '[.queues, .regions]')" "[[],[]]" "nothing exported at the end"
is "$(info | jq -r '"\(.queues_used) \(.regions) \(.cmb_free)"')" \
	"$(jq -r '"\(.queues_used) \(.regions) \(.cmb_free)"' <<<"$info0")" "info's counters and cmb_free are back"

done_testing
