#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-boot: hv's boot time against the process floor and the KVM floor, and CPU-bound
# code in the guest against the same code native. Side by side, alternating, in one run.
#
# Usage: bench/boot.sh BUILD_DIR   (RUNS=N to change the number of runs, default 50)
set -euo pipefail

B=$1
RUNS=${RUNS:-50}
ITER=${ITER:-20000000}

echo "bench-boot on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
	"$(nproc) CPUs, Linux $(uname -r)"
if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	echo "KVM here is software-assisted (no VMX/SVM visible): compare ratios, not absolute times."
fi
echo

echo "Boot, end to end: wall time from fork to exit, $RUNS runs each, alternating"
"$B/bench/timecmd" -n "$RUNS" \
	-- "/bin/true (process floor)" /bin/true \
	-- "kvm_floor (VM + one exit)" "$B/bench/kvm_floor" \
	-- "hv hello.img (end to end)" "$B/hv" "$B/apps/hello.img" | tee "$B/bench/boot.txt"
awk '/kvm_floor/ { floor = $(NF-7) } /hv hello/ { hv = $(NF-7) }
     END { if (floor > 0) printf "hv hello / kvm_floor median: %.2fx\n", hv / floor }' "$B/bench/boot.txt"
echo "Exits of one hello run (hv --stats):"
"$B/hv" --stats "$B/apps/hello.img" 2>&1 >/dev/null | sed 's/^hv: [^:]*: stats: */  /'
echo

echo "CPU-bound loop ($ITER splitmix64 steps), timed inside each program, $RUNS runs each, alternating;"
echo "the same machine code at the same 64-byte alignment in both (see mk/bench.mk)"
native=() guest=()
for ((i = 0; i < RUNS; i++)); do
	native+=("$("$B/bench/cpuloop" "$ITER" | sed -n 's/^loop_ns=\([0-9]*\).*/\1/p')")
	guest+=("$("$B/hv" "$B/bench/cpuloop.img" "$ITER" | sed -n 's/^loop_ns=\([0-9]*\).*/\1/p')")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
	END { printf "%9.3f ms %9.3f ms %9.3f ms", v[int((NR+1)/2)]/1e6, v[int(NR*0.1+1)]/1e6, v[int(NR*0.9)]/1e6 }'; }
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR+1)/2)] }'; }
printf '%-34s %12s %12s %12s\n' "program" "median" "p10" "p90"
printf '%-34s %s\n' "native process" "$(stats "${native[@]}")"
printf '%-34s %s\n' "guest on hv" "$(stats "${guest[@]}")"
awk -v n="$(med "${native[@]}")" -v g="$(med "${guest[@]}")" \
	'BEGIN { printf "guest / native median: %.4fx (%+.2f%%)\n", g / n, (g / n - 1) * 100 }'
