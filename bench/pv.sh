#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-pv: two domains on one hv against two native processes, side by side in one run.
#   latency:    an event-channel round trip between two domains (apps/pingpong mode=evtchn),
#               sends through the send ring and by hypercall, against one byte over two pipes and a count over two eventfds between two
#               processes (bench/ipc_native.c), median of each run's median
#   throughput: the shared-memory channel (apps/pingpong mode=stream) in 64 B, 4 KiB and
#               64 KiB messages against the same messages over a pipe
#   per message: the events the channel sent (notification suppression at work) and hv's
#               exits (hv --stats, the whole run, setup included)
# hv runs on every backend it has here (kvm where /dev/kvm is usable, proc always). Rounds
# alternate between the contenders so that drift in the machine's load hits all alike.
# Usage: bench/pv.sh BUILD_DIR   (RUNS=n rounds, default 5; RTTS=n round trips per run;
#        BACKENDS="kvm proc" to choose the backends)
set -euo pipefail

B=$1
RUNS=${RUNS:-5}
RTTS=${RTTS:-20000}
SIZES=(64 4096 65536)
declare -A BYTES=([64]=$((32 << 20)) [4096]=$((512 << 20)) [65536]=$((512 << 20)))
PP=$B/apps/pingpong.img
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
source bench/lib.sh

bench_banner bench-pv "hv runs on proc."
echo "$RUNS rounds; $RTTS round trips per latency run; medians over the rounds"
echo

# record LABEL VALUE: one sample of LABEL.
record() { echo "$2" >>"$TMP/$1.samples"; }
median() { sort -g "$TMP/$1.samples" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The sum of hv's exit counts over its domains, from --stats in file $1.
exits() { sed -n 's/.*stats: \([0-9][0-9]*\) exits in.*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }
# The events both sides of the channel sent, from pingpong's "events: N sent" lines in $1.
events() { sed -n 's/.*events: \([0-9][0-9]*\) sent.*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'; }

# hv_pair BACKEND LOG ARGS...: both pingpong domains with ARGS on BACKEND, --stats, output in
# LOG; 0 or say why.
hv_pair() {
	local be=$1 log=$2
	shift 2
	if ! timeout 300 "$B/hv" --backend="$be" --stats "$PP" role=server "$@" :: "$PP" role=client "$@" >"$log" 2>&1 ||
		[[ $(grep -c SUCCESS "$log") != 2 ]]; then
		echo "bench-pv: pingpong $* on $be failed:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
}

for ((r = 1; r <= RUNS; r++)); do
	printf 'round %d:' "$r"
	for be in "${backends[@]}"; do
		for send in ring hypercall; do
			hv_pair "$be" "$TMP/evtchn.log" mode=evtchn n="$RTTS" send="$send"
			record "evtchn-$be-$send" "$(sed -n 's/.*evtchn round trip: median \([0-9.]*\) us.*/\1/p' "$TMP/evtchn.log")"
			record "evtchn-$be-$send-exits" "$(awk -v e="$(exits "$TMP/evtchn.log")" -v n="$RTTS" 'BEGIN { printf "%.3f", e / (n + 1000) }')"
		done
	done
	for kind in pipe eventfd; do
		record "$kind" "$("$B/bench/ipc_native" pingpong "$kind" "$RTTS" |
			sed -n 's/.*median \([0-9.]*\) us.*/\1/p')"
	done
	for s in "${SIZES[@]}"; do
		msgs=$((${BYTES[$s]} / s))
		for be in "${backends[@]}"; do
			hv_pair "$be" "$TMP/stream.log" mode=stream n="$s" bulk="${BYTES[$s]}"
			record "vchan-$be-$s" "$(sed -n 's/.*stream: .* \([0-9.]*\) MB\/s.*/\1/p' "$TMP/stream.log")"
			record "vchan-$be-$s-events" "$(awk -v e="$(events "$TMP/stream.log")" -v n="$msgs" 'BEGIN { printf "%.5f", e / n }')"
			record "vchan-$be-$s-exits" "$(awk -v e="$(exits "$TMP/stream.log")" -v n="$msgs" 'BEGIN { printf "%.5f", e / n }')"
		done
		record "pipe-$s" "$("$B/bench/ipc_native" stream "$s" "${BYTES[$s]}" |
			sed -n 's/.* \([0-9.]*\) MB\/s.*/\1/p')"
		printf ' .'
	done
	echo
done
echo

printf '%-44s %14s %14s %14s %12s\n' "round trip (median)" "hv domains" "pipe" "eventfd" "exits/trip"
for be in "${backends[@]}"; do
	printf '%-44s %11s us %11s us %11s us %12s\n' "event channel on $be, sends through the ring" \
		"$(median "evtchn-$be-ring")" "$(median pipe)" "$(median eventfd)" "$(median "evtchn-$be-ring-exits")"
	printf '%-44s %11s us %14s %14s %12s\n' "event channel on $be, sends by EVTCHNOP_send" \
		"$(median "evtchn-$be-hypercall")" "" "" "$(median "evtchn-$be-hypercall-exits")"
done
echo
printf '%-44s %14s %14s %12s %12s\n' "stream throughput (median)" "vchan" "pipe" "events/msg" "exits/msg"
for be in "${backends[@]}"; do
	for s in "${SIZES[@]}"; do
		printf '%-44s %9s MB/s %9s MB/s %12s %12s\n' "$s-byte messages ($((${BYTES[$s]} >> 20)) MiB) on $be" \
			"$(median "vchan-$be-$s")" "$(median "pipe-$s")" "$(median "vchan-$be-$s-events")" \
			"$(median "vchan-$be-$s-exits")"
	done
done
echo
echo "exits/trip, exits/msg: hv's exits in both domains per round trip or message, setup included"
echo "(on proc an exit is a stop of a guest's process that hv served);"
echo "events/msg: events both ends of the channel sent per message (a side is notified only when"
echo "it said it sleeps). A ring send wakes a thread of hv's, which needs a free CPU: on a host"
echo "with few, a send by hypercall (an exit, delivered by the sender's own vCPU thread) can be sooner."
