# SPDX-License-Identifier: MIT
# Network configuration without ip=: an address from dnsmasq's DHCP server in the test's
# namespace, and a clear message when nothing answers. Sourced by tests/run.sh.

NS=pvkit-dhcp-$$
SUBNET=10.79.0

dhcp_tests() {
	ip netns exec "$NS" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
		--interface=tap0 --bind-interfaces --port=0 \
		--dhcp-range="$SUBNET.50,$SUBNET.60,255.255.255.0,1h" \
		--dhcp-leasefile="$TMP/leases" >"$TMP/dnsmasq.log" 2>&1 &
	local dnsmasq=$!
	if guest_start "$NS" "$TMP/dhcp.log" "serving" "$HV" --mem=64M --net=tap0 \
		"$B/apps/httpd.img" dhcp_wait=15; then
		expect "dhcp: the address comes from DHCP" 0 0 "$TMP/dhcp.log" \
			"libos: net: virtio-net0 $SUBNET.5" "(from DHCP)"
		local addr
		addr=$(sed -n "s/.*virtio-net0 \($SUBNET\.[0-9]*\) .*/\1/p" "$TMP/dhcp.log")
		ip netns exec "$NS" curl -s -o "$TMP/body" -w '%{http_code}' "http://$addr/" >"$TMP/code"
		expect "dhcp: httpd answers at its leased address $addr" 0 0 "$TMP/code" "200"
	else
		not_ok "dhcp: httpd did not start with DHCP"
	fi
	guest_stop
	kill "$dnsmasq" 2>/dev/null
	wait "$dnsmasq" 2>/dev/null
	if guest_start "$NS" "$TMP/nodhcp.log" "serving" "$HV" --mem=64M --net=tap0 \
		"$B/apps/httpd.img" dhcp_wait=2; then
		expect "dhcp: no server: the appliance says it has no address" 0 0 "$TMP/nodhcp.log" \
			"has no address: no DHCP answer within 2 s"
	else
		not_ok "dhcp: httpd did not start without a DHCP server"
	fi
	guest_stop
}

if net_usable && hv_has --net= && command -v dnsmasq >/dev/null; then
	if netns_up "$NS" "$SUBNET"; then dhcp_tests; else not_ok "dhcp: no namespace"; fi
	guest_stop
	netns_down "$NS"
else
	skip "dhcp: needs root, ip, /dev/net/tun, dnsmasq and an hv with --net"
fi
