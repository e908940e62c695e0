#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-boot: hv's boot time against the process floor and the KVM floor, and CPU-bound
# code in the guest against the same code native. Side by side, alternating, in one run, on
# every backend hv has here (kvm where /dev/kvm is usable, proc always).
#
# Usage: bench/boot.sh BUILD_DIR   (RUNS=N to change the number of runs, default 50;
#                                   BACKENDS="kvm proc" to choose the backends)
set -euo pipefail

B=$1
RUNS=${RUNS:-50}
ITER=${ITER:-20000000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
source bench/lib.sh

bench_banner bench-boot "the KVM floor is not measured."
echo

echo "Boot, end to end: wall time from fork to exit, $RUNS runs each, alternating"
cmds=(-- "/bin/true (native)" /bin/true)
kvm_usable && cmds+=(-- "kvm_floor (VM + one exit)" "$B/bench/kvm_floor")
for be in "${backends[@]}"; do
	cmds+=(-- "hv hello.img ($be)" "$B/hv" --backend="$be" "$B/apps/hello.img")
done
"$B/bench/timecmd" -n "$RUNS" "${cmds[@]}" | tee "$B/bench/boot.txt"
# Each row ends "MEDIAN ms P10 ms P90 ms MIN ms": the median is $(NF-7).
awk '/^\/bin\/true/ { t = $(NF-7) } /^kvm_floor/ { k = $(NF-7) }
     /^hv hello/ { b = $3; gsub(/[()]/, "", b); hv[b] = $(NF-7); order[++n] = b }
     END { for (i = 1; i <= n; i++) {
             b = order[i]
             r = hv[b] / t
             printf "hv hello.img on %s / /bin/true median: %.2fx (target: within 2x: %s)\n", b, r,
                    r <= 2 ? "met" : "not met"
             if (k > 0 && b == "kvm") printf "hv hello.img on %s / kvm_floor median: %.2fx\n", b, hv[b] / k } }' "$B/bench/boot.txt"
for be in "${backends[@]}"; do
	echo "Exits of one hello run on $be (hv --stats):"
	"$B/hv" --backend="$be" --stats "$B/apps/hello.img" 2>&1 >/dev/null | sed 's/^hv: [^:]*: stats: */  /'
done
echo

echo "CPU-bound loop ($ITER splitmix64 steps), timed inside each program, $RUNS runs each, alternating;"
echo "the same machine code at the same 64-byte alignment in both (see mk/bench.mk)"
loop_ns() { "$@" | sed -n 's/^loop_ns=\([0-9]*\).*/\1/p'; }
for ((i = 0; i < RUNS; i++)); do
	loop_ns "$B/bench/cpuloop" "$ITER" >>"$TMP/cpuloop-native.samples"
	for be in "${backends[@]}"; do
		loop_ns "$B/hv" --backend="$be" "$B/bench/cpuloop.img" "$ITER" >>"$TMP/cpuloop-$be.samples"
	done
done
stats() { sort -n "$1" | awk '{ v[NR] = $1 }
	END { printf "%9.3f ms %9.3f ms %9.3f ms", v[int((NR+1)/2)]/1e6, v[int(NR*0.1+1)]/1e6, v[int(NR*0.9)]/1e6 }'; }
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR+1)/2)] }'; }
printf '%-34s %12s %12s %12s\n' "program" "median" "p10" "p90"
printf '%-34s %s\n' "native process" "$(stats "$TMP/cpuloop-native.samples")"
for be in "${backends[@]}"; do
	printf '%-34s %s\n' "guest on hv ($be)" "$(stats "$TMP/cpuloop-$be.samples")"
done
for be in "${backends[@]}"; do
	awk -v n="$(med "$TMP/cpuloop-native.samples")" -v g="$(med "$TMP/cpuloop-$be.samples")" -v b="$be" \
		'BEGIN { r = g / n; printf "guest on %s / native median: %.4fx (%+.2f%%; target: 1.00x, within 2%%: %s)\n",
		         b, r, (r - 1) * 100, (r >= 0.98 && r <= 1.02) ? "met" : "not met" }'
done
