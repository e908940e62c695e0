#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-io: the virtio paths against their baselines, side by side in one run.
#   network: flood ping to apps/nettest on hv and on QEMU microvm, and to a Linux network
#            namespace over a veth pair (the kernel's own floor), over the same kind of link
#   block:   apps/blktest's bench on hv and on QEMU, and the same operations natively on the
#            same host file (bench/blkbench.c), alternating, RUNS rounds each
#   exits:   per packet and per block request on hv, from hv --stats
# hv runs on every backend it has here (kvm where /dev/kvm is usable, proc always).
# Usage: bench/io.sh BUILD_DIR   (RUNS=n rounds, PINGS=n packets per flood; BACKENDS="kvm proc"
#        to choose the backends; needs root)
set -euo pipefail

B=$1
RUNS=${RUNS:-3}
PINGS=${PINGS:-20000}
NS=pvkit-bench-$$
SUBNET=10.91.0
TMP=$(mktemp -d)
source bench/lib.sh
cleanup() { guest_stop; netns_down "$NS"; ip link del pvkit-veth$$ 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

((EUID == 0)) || { echo "bench-io needs root (network namespaces, tap devices)"; exit 1; }
bench_banner bench-io "hv runs on proc."
echo

# flood PEER: packets per second and average RTT of ping -f -c PINGS.
flood() {
	local out
	out=$(ip netns exec "$NS" ping -q -f -c "$PINGS" -W 2 "$1" 2>&1)
	awk -v n="$PINGS" '/packets transmitted/ { for (i = 1; i <= NF; i++) if ($i ~ /ms$/) t = $i + 0; lost = $6 }
		/rtt/ { split($4, r, "/"); avg = r[2] }
		END { printf "%9.0f pkt/s %8.1f us avg RTT  (%s loss)\n", n / (t / 1000), avg * 1000, lost }' <<<"$out"
}

echo "== network: ping -f -c $PINGS from a namespace, $RUNS rounds each, alternating"
netns_up "$NS" "$SUBNET"
# The floor: the kernel answering on the far side of a veth pair in a second namespace.
ip netns add "$NS-peer"
ip link add pvkit-veth$$ netns "$NS" type veth peer name veth0 netns "$NS-peer"
ip -n "$NS" addr add 10.92.0.1/24 dev pvkit-veth$$ && ip -n "$NS" link set pvkit-veth$$ up
ip -n "$NS-peer" addr add 10.92.0.2/24 dev veth0 && ip -n "$NS-peer" link set veth0 up
ip -n "$NS-peer" link set lo up
for ((r = 1; r <= RUNS; r++)); do
	printf '%-34s %s\n' "Linux over veth (the floor)" "$(flood 10.92.0.2)"
	for be in "${backends[@]}"; do
		guest_start "$NS" "$TMP/hv-net.log" "answering" "$B/hv" --backend="$be" --stats --net=tap0 \
			"$B/apps/nettest.img" "ip=$SUBNET.2" >/dev/null
		printf '%-34s %s\n' "nettest on hv, $be (tap)" "$(flood "$SUBNET.2")"
		guest_stop
		if ((r == RUNS)); then
			exits=$(sed -n 's/.*stats: \([0-9]*\) exits in.*/\1/p' "$TMP/hv-net.log")
			echo "   hv --stats of that run ($be): $exits exits for $((PINGS + 1)) echo requests and replies:" \
				"$(awk -v e="$exits" -v n="$PINGS" 'BEGIN { printf "%.4f", e / n }') exits per packet"
			sed -n 's/.*stats: \(virtio-net0: .*\)/      \1/p' "$TMP/hv-net.log"
		fi
	done
	if command -v qemu-system-x86_64 >/dev/null; then
		QEMU_OPTS="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-device,netdev=n0" \
			guest_start "$NS" "$TMP/qemu-net.log" "answering" mk/qemu-run.sh \
			"$B/apps/nettest.img" "ip=$SUBNET.2" >/dev/null
		printf '%-34s %s\n' "nettest on QEMU microvm TCG (tap)" "$(flood "$SUBNET.2")"
		guest_stop
	fi
done
ip netns del "$NS-peer"
echo

echo "== block: 64 MiB sequential in 1 MiB requests (reads: 16 passes, 1 GiB), 4096 random 4 KiB one at a time, 32768 with 32 in flight, $RUNS rounds"
disk=$TMP/disk.img
head -c $((64 << 20)) /dev/zero >"$disk"
for ((r = 1; r <= RUNS; r++)); do
	echo "-- round $r: native pread/pwrite on the host file (bench/blkbench.c)"
	"$B/bench/blkbench" "$disk" 64 | sed 's/^/   /'
	for be in "${backends[@]}"; do
		echo "-- round $r: blktest on hv, $be (virtio-blk on the same file)"
		"$B/hv" --backend="$be" --stats --disk="$disk" "$B/apps/blktest.img" bench 64 >"$TMP/hv-blk-$be.log" 2>&1 ||
			{ echo "bench-io: blktest on hv, $be, failed:"; tail -n 20 "$TMP/hv-blk-$be.log"; exit 1; }
		grep '^bench:' "$TMP/hv-blk-$be.log" | sed 's/^/   /'
	done
	if command -v qemu-system-x86_64 >/dev/null; then
		echo "-- round $r: blktest on QEMU microvm TCG (virtio-blk on the same file)"
		QEMU_OPTS="-drive if=none,id=d0,file=$disk,format=raw -device virtio-blk-device,drive=d0" \
			mk/qemu-run.sh "$B/apps/blktest.img" bench 64 2>&1 | grep '^bench:' | sed 's/^/   /'
	fi
done
for be in "${backends[@]}"; do
	exits=$(sed -n 's/.*stats: \([0-9]*\) exits in.*/\1/p' "$TMP/hv-blk-$be.log")
	reqs=$(sed -n 's/.*virtio-blk0: \([0-9]*\) requests.*/\1/p' "$TMP/hv-blk-$be.log")
	echo "hv --stats of the last hv run ($be): $exits exits for $reqs block requests:" \
		"$(awk -v e="$exits" -v n="$reqs" 'BEGIN { printf "%.4f", e / n }') exits per request"
	sed -n 's/.*stats: \(virtio-blk0: .*\)/   \1/p; s/.*stats:   \(block .*\)/   \1/' "$TMP/hv-blk-$be.log"
done
