# SPDX-License-Identifier: MIT
# hv's virtio devices from its command line: every refusal of --disk and --net, the device
# limit, and (as root) a virtio-net driven by hand on a tap in a namespace of its own: the
# guest's ARP request seen on the host's side, the host's reply received by the guest, the tap
# left as it was. Sourced by tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

DEV_HELLO=$B/apps/hello.img
DEV=$TMP/devices
mkdir -p "$DEV"
head -c 1048576 /dev/zero >"$DEV/disk.img"
head -c 1000 /dev/zero >"$DEV/odd.img"

# dev_case NAME WANT_STATUS SUBSTRINGS... -- HV_ARGS...: run hv, check status and its output.
dev_case() {
	local name=$1 want=$2 subs=() status
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	timeout 20 "$HV" "$@" >"$TMP/out" 2>&1
	status=$?
	expect "$name" "$status" "$want" "$TMP/out" "${subs[@]}"
}

dev_case "--help names --disk and --net" 0 "--disk=FILE[,ro]" "--net=TAP[,mac=" -- --help
dev_case "--disk: missing file" 66 \
	"hv: --disk=$DEV/missing.img: $DEV/missing.img: No such file or directory" \
	-- --disk="$DEV/missing.img" "$DEV_HELLO"
dev_case "--disk: size not a multiple of 512" 66 \
	"$DEV/odd.img is 1000 bytes, not a multiple of the 512-byte sector" \
	-- --disk="$DEV/odd.img" "$DEV_HELLO"
dev_case "--disk: a directory" 66 "$DEV: Is a directory" -- --disk="$DEV" "$DEV_HELLO"
dev_case "--disk: not a file" 66 "/dev/null: not a regular file or block device" \
	-- --disk=/dev/null "$DEV_HELLO"
dev_case "--disk: unknown flag" 64 "want FILE or FILE,ro" -- --disk="$DEV/disk.img,rw" "$DEV_HELLO"
dev_case "--disk: no value" 64 "option '--disk' needs a value" -- --disk
if command -v flock >/dev/null; then
	flock "$DEV/disk.img" timeout 20 "$HV" --disk="$DEV/disk.img" "$DEV_HELLO" >"$TMP/out" 2>&1
	expect "--disk: in use by another process" $? 66 "$TMP/out" "is in use by another process"
else
	skip "--disk: in use by another process: needs flock"
fi
dev_case "--disk,ro: readers share a disk" 0 "Hello from" \
	-- --disk="$DEV/disk.img,ro" --disk="$DEV/disk.img,ro" "$DEV_HELLO"

dev_case "--net: no such interface" 69 \
	"there is no network interface hvnosuch0; create the tap first: ip tuntap add hvnosuch0 mode tap" \
	-- --net=hvnosuch0 "$DEV_HELLO"
if ip link show hvnosuch0 >/dev/null 2>&1; then
	not_ok "--net: a missing tap is not created"
else
	ok "--net: a missing tap is not created"
fi
dev_case "--net: not a tap" 69 "lo is not a tap device (not a tun/tap interface)" \
	-- --net=lo "$DEV_HELLO"
dev_case "--net: name too long" 64 "a network interface name has 1 to 15 characters" \
	-- --net=a_name_of_16_chr "$DEV_HELLO"
dev_case "--net: bad mac" 64 "want TAP, then ,mac=xx:xx:xx:xx:xx:xx or ,offload=on|off if you like" \
	-- --net=lo,mac=02:00:00:00:00 "$DEV_HELLO"
dev_case "--net: multicast mac" 64 "01:00:5e:00:00:01 is a multicast address" \
	-- --net=lo,mac=01:00:5e:00:00:01 "$DEV_HELLO"

many=()
for _ in $(seq 16); do many+=(--disk="$DEV/disk.img,ro"); done
dev_case "16 devices: the most a VM has" 0 "Hello from" -- "${many[@]}" "$DEV_HELLO"
dev_case "17 devices: too many" 64 "too many devices: a VM has at most 16 (--disk and --net together)" \
	-- "${many[@]}" --disk="$DEV/disk.img,ro" "$DEV_HELLO"

# virtio-net by hand: tests/integration/guest/net_arp.c on a tap in a namespace.
net_by_hand() {
	local ns=pvkit-dev-$$ subnet=10.78.0 img=$B/tests/integration/net_arp.img td=
	if ! netns_up "$ns" "$subnet"; then
		not_ok "net by hand: cannot make namespace $ns with a tap device"
		return
	fi
	if command -v tcpdump >/dev/null; then
		ip netns exec "$ns" tcpdump -i tap0 -n -l arp >"$DEV/tcpdump.out" 2>&1 &
		td=$!
		for _ in $(seq 50); do grep -q listening "$DEV/tcpdump.out" && break; sleep 0.1; done
	fi
	ip netns exec "$ns" timeout 20 "$HV" --stats --net=tap0 "$img" "$subnet.2" "$subnet.1" \
		>"$DEV/net.out" 2>&1
	expect "net by hand: ARP request out, the reply in after RX buffers come" $? 0 \
		"$DEV/net.out" "sent: ARP request" "received: ARP reply, $subnet.1 is at" "SUCCESS" \
		"stats: virtio-net0: rx" "tx 1 packets 42 bytes (0 dropped, 0 refused)"
	if [[ -n $td ]]; then
		sleep 0.3
		kill "$td" 2>/dev/null
		wait "$td" 2>/dev/null
		expect "net by hand: tcpdump on the host sees the request" 0 0 "$DEV/tcpdump.out" \
			"Request who-has $subnet.1 tell $subnet.2, length 28"
	else
		skip "net by hand: tcpdump on the host side: tcpdump is not installed"
	fi
	ip -n "$ns" -s -j link show tap0 >"$DEV/link.json" 2>&1
	expect "net by hand: the tap counted the frame" 0 0 "$DEV/link.json" '"rx":{"bytes":42,"packets":1'
	# hv left the tap as it was, and lets go of it: a second VM attaches to it again.
	ip netns exec "$ns" timeout 20 "$HV" --net=tap0 "$img" "$subnet.2" "$subnet.1" \
		>"$DEV/net2.out" 2>&1
	expect "net by hand: the tap outlives hv and serves a second VM" $? 0 "$DEV/net2.out" "SUCCESS"
	netns_down "$ns"
}

if net_usable; then
	net_by_hand
else
	skip "net by hand: needs root, ip and /dev/net/tun"
fi
