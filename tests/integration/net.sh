# SPDX-License-Identifier: MIT
# The virtio-net path end to end: apps/nettest on hv answers ARP and ping from a network
# namespace made here, through a real tap device; every reply must come back. Sourced by
# tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

NS=pvkit-net-$$
SUBNET=10.77.0

net_tests() {
	if ! netns_up "$NS" "$SUBNET"; then
		not_ok "net: cannot make namespace $NS with a tap device"
		return
	fi
	if ! guest_start "$NS" "$TMP/nettest.log" "answering ARP" \
		"$HV" --stats --net=tap0 "$B/apps/nettest.img" "ip=$SUBNET.2"; then
		not_ok "net: nettest did not start"
		return
	fi
	ip netns exec "$NS" ping -c 100 -i 0.01 -W 2 "$SUBNET.2" >"$TMP/ping.out" 2>&1
	expect "net on hv: ping -c 100 -i 0.01: every reply" $? 0 "$TMP/ping.out" \
		"100 packets transmitted, 100 received, 0% packet loss"
	ip netns exec "$NS" ping -f -c 10000 -W 2 "$SUBNET.2" >"$TMP/flood.out" 2>&1
	expect "net on hv: flood ping, 10000 packets: every reply" $? 0 "$TMP/flood.out" \
		"10000 packets transmitted, 10000 received, 0% packet loss"
	guest_stop
	if ! command -v qemu-system-x86_64 >/dev/null; then
		skip "net on qemu: qemu-system-x86_64 is not installed (make deps installs it)"
		return
	fi
	# The same appliance on QEMU microvm, on the same tap.
	if ! QEMU_OPTS="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-device,netdev=n0" \
		guest_start "$NS" "$TMP/nettest-qemu.log" "answering ARP" \
		mk/qemu-run.sh "$B/apps/nettest.img" "ip=$SUBNET.2"; then
		not_ok "net on qemu: nettest did not start"
		return
	fi
	ip netns exec "$NS" ping -c 100 -i 0.01 -W 2 "$SUBNET.2" >"$TMP/ping.out" 2>&1
	expect "net on qemu: ping -c 100 -i 0.01: every reply" $? 0 "$TMP/ping.out" \
		"100 packets transmitted, 100 received, 0% packet loss"
	ip netns exec "$NS" ping -f -c 10000 -W 2 "$SUBNET.2" >"$TMP/flood.out" 2>&1
	expect "net on qemu: flood ping, 10000 packets: every reply" $? 0 "$TMP/flood.out" \
		"10000 packets transmitted, 10000 received, 0% packet loss"
	guest_stop
}

if net_usable && hv_has --net=; then
	net_tests
	guest_stop
	netns_down "$NS"
else
	skip "net: needs root, ip, /dev/net/tun and an hv with --net"
fi
