# SPDX-License-Identifier: MIT
# hv's in-process Ethernet switch (--net=switch:NAME), which needs no root and no tap: every
# refusal of its syntax; tests/integration/guest/switch_frames.c on three NICs of one switch
# (learning, flooding, no hairpin, every byte of every frame size, both directions at once, a
# MAC that moves, a flood from one NIC kept out of the last eighth of the receive buffers of a
# NIC that takes none, refused and counted, while another NIC's frame gets in), with hv's
# --stats per port; stable default MACs. Where hv runs several domains (`::` in hv --help; else
# SKIP): apps/nettest in one domain answers tests/integration/guest/pinger.c in another, over a
# switch.
# Sourced by tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

VSW_HELLO=$B/apps/hello.img
VSW_FRAMES=$B/tests/integration/switch_frames.img

# vsw_case NAME WANT_STATUS SUBSTRINGS... -- HV_ARGS...: run hv, check status and its output.
vsw_case() {
	local name=$1 want=$2 subs=()
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	timeout -k 5 20 "$HV" "$@" >"$TMP/vsw.out" 2>&1
	expect "$name" $? "$want" "$TMP/vsw.out" "${subs[@]}"
}

# vsw_line NAME FILE REGEX...: each extended REGEX matches a line of FILE.
vsw_line() {
	local name=$1 file=$2 re missing=()
	shift 2
	for re; do grep -qE -- "$re" "$file" || missing+=("$re"); done
	if ((${#missing[@]} == 0)); then ok "$name"; else
		not_ok "$name"
		printf '    no line matches: %s\n' "${missing[@]}"
		grep 'stats: virtio-net' "$file" | sed 's/^/    output: /'
	fi
}

vsw_syntax() {
	local want="want switch:NAME, then ,mac=xx:xx:xx:xx:xx:xx or ,offload=on|off if you like"
	local rule="a switch name has 1 to 31 letters, digits, '_' or '-'"
	vsw_case "switch: --help names --net=switch:NAME" 0 "--net=switch:NAME[,mac=" -- --help
	vsw_case "switch: empty name" 64 "$want ($rule)" -- --net=switch: "$VSW_HELLO"
	vsw_case "switch: name of 32 characters" 64 "$rule" \
		-- --net=switch:abcdefghijklmnopqrstuvwxyz012345 "$VSW_HELLO"
	vsw_case "switch: a dot in the name" 64 "$rule" -- --net=switch:a.b "$VSW_HELLO"
	vsw_case "switch: a blank in the name" 64 "$rule" -- "--net=switch:a b" "$VSW_HELLO"
	vsw_case "switch: an unknown option" 64 "$want" -- --net=switch:lan,ro "$VSW_HELLO"
	vsw_case "switch: bad mac" 64 "$want" -- --net=switch:lan,mac=02:00:00:00:00 "$VSW_HELLO"
	vsw_case "switch: multicast mac" 64 "01:00:5e:00:00:01 is a multicast address" \
		-- --net=switch:lan,mac=01:00:5e:00:00:01 "$VSW_HELLO"
	vsw_case "switch: a name of 31 characters, a NIC nobody drives" 0 "Hello from" \
		-- --net=switch:Abcdefghijklmnopqrstuvwxyz-_012 "$VSW_HELLO"
}

vsw_frames() {
	local out=$TMP/vsw-frames.out
	timeout -k 5 30 "$HV" --stats --net=switch:t --net=switch:t --net=switch:t "$VSW_FRAMES" \
		>"$out" 2>&1
	expect "switch: three NICs on one switch (124 or 137: hv hung)" $? 0 "$out" \
		"sizes: 214 frames of 14 to 1518 bytes, both ways, every byte" \
		"both at once: 8192 frames each way" \
		"flood: 224 of 600 frames received, 376 refused; another sender's frame got through" SUCCESS
	vsw_line "switch: --stats per port: forwarded, flooded, filtered, dropped, refused" "$out" \
		'virtio-net0: switch t port 0: rx 8304 packets [0-9]+ bytes \(0 dropped, 0 refused over share\), tx 8908 packets [0-9]+ bytes \(0 dropped\); 8904 forwarded, 3 flooded, 1 filtered; 0 partial checksums completed$' \
		'virtio-net1: switch t port 1: rx 8530 packets [0-9]+ bytes \(0 dropped, 376 refused over share\), tx 8302 packets [0-9]+ bytes \(0 dropped\); 8300 forwarded, 2 flooded, 0 filtered; 0 partial checksums completed$' \
		'virtio-net2: switch t port 2: rx 8 packets 480 bytes \(0 dropped, 0 refused over share\), tx 3 packets 180 bytes \(0 dropped\); 2 forwarded, 1 flooded, 0 filtered; 0 partial checksums completed$'

	# The default MACs are the same at every run; mac= sets one.
	grep '^nic' "$out" >"$TMP/vsw-macs1"
	timeout -k 5 30 "$HV" --net=switch:t --net=switch:t --net=switch:t "$VSW_FRAMES" >"$out" 2>&1
	grep '^nic' "$out" >"$TMP/vsw-macs2"
	if [[ $(wc -l <"$TMP/vsw-macs1") == 3 ]] && cmp -s "$TMP/vsw-macs1" "$TMP/vsw-macs2"; then
		ok "switch: default MACs are stable from run to run"
	else
		not_ok "switch: default MACs are stable from run to run"
		paste "$TMP/vsw-macs1" "$TMP/vsw-macs2" | sed 's/^/    /'
	fi
	vsw_case "switch: mac= gives a NIC its MAC" 0 "nic1 02:00:5e:10:00:01" SUCCESS \
		-- --net=switch:t --net=switch:t,mac=02:00:5e:10:00:01 --net=switch:t "$VSW_FRAMES"
}

# The two-appliance test. The command line is hv's multi-domain syntax: each domain's options
# and image, the domains separated by `::`. nettest answers until hv is stopped (with its
# replies=N it could exit before hv had sent its last reply), so hv is stopped once the pinger
# has said its last line.
vsw_domains() {
	local out=$TMP/vsw-domains.out pid
	if ! hv_has '::'; then
		skip "switch across domains: this hv runs one domain per process (no '::' in hv --help)"
		return
	fi
	timeout -k 5 60 "$HV" --net=switch:pp "$B/apps/nettest.img" ip=10.5.0.2 \
		:: --net=switch:pp "$B/tests/integration/pinger.img" ip=10.5.0.1 peer=10.5.0.2 \
		count=100 >"$out" 2>&1 &
	pid=$!
	wait_line "$out" '^(SUCCESS|FAILURE)' "$pid" 30
	kill "$pid" 2>/dev/null
	wait "$pid"
	expect "switch across domains: nettest answers a pinger in another domain" 0 0 "$out" \
		"pinger: 100 of 100 replies" SUCCESS "hv: dom2 (pinger.img): exited with 0"
}

vsw_syntax
vsw_frames
vsw_domains

# TCP between two appliances, no tap anywhere: lwIP in one domain streams to lwIP in another
# through the switch; the source checks the sink acknowledged every byte it sent. The source
# leaves its checksums partial; a sink that took GUEST_CSUM gets them so, one whose NIC says
# offload=off gets them completed by hv, and its lwIP checks every one.
vsw_tcp() {
	local how=$1 sink_opt=$2 out=$TMP/vsw-tcp.out pid
	hv_has '::' || { skip "TCP across the switch: no '::'"; return; }
	timeout -k 5 60 "$HV" --stats --mem=64M --net=switch:tcp$sink_opt "$B/bench/tcpstream.img" \
		sink 5001 ip=10.6.0.1/24 :: --mem=64M --net=switch:tcp "$B/bench/tcpstream.img" \
		source 10.6.0.1 5001 1 ip=10.6.0.2/24 >"$out" 2>&1 &
	pid=$!
	wait_line "$out" 'exited with|^received=' "$pid" 30
	sleep 0.5
	kill "$pid" 2>/dev/null
	wait "$pid"
	local sent acked
	sent=$(sed -n 's/^sent=\([0-9]*\).*/\1/p' "$out")
	acked=$(sed -n 's/.* acked=\([0-9]*\).*/\1/p' "$out")
	if [[ -n $sent && $sent == "$acked" && $sent -gt 1000000 ]] &&
		grep -q "hv: dom2 (tcpstream.img): exited with 0" "$out"; then
		ok "TCP across the switch ($how): $sent bytes from one domain to another, all acknowledged"
	else
		not_ok "TCP across the switch ($how): sent '$sent', acknowledged '$acked'"
		grep -v ': stats: ' "$out" | sed 's/^/    /' | tail -n 15
		grep ': stats: ' "$out" | sed 's/^/    /' | tail -n 15
	fi
	local summed
	summed=$(sed -n 's/^hv: .*: stats: virtio-net0: switch tcp port 0: .*; \([0-9]*\) partial checksums completed$/\1/p' "$out")
	if [[ -n $sink_opt && ${summed:-0} -gt 100 ]] || [[ -z $sink_opt && $summed == 0 ]]; then
		ok "TCP across the switch ($how): hv completed ${summed} partial checksums for the sink"
	else
		not_ok "TCP across the switch ($how): hv completed '${summed}' partial checksums for the sink"
		grep "partial checksums" "$out" | sed 's/^/    /'
	fi
}
vsw_tcp "checksums passed partial" ""
vsw_tcp "checksums completed by hv" ",offload=off"

# What a guest queued just before it exited still goes out: one domain sends a burst of
# frames and exits at once, the other counts them all.
vsw_burst() {
	local out=$TMP/vsw-burst.out
	hv_has '::' || { skip "burst before exit: no '::'"; return; }
	timeout -k 5 60 "$HV" --stats --net=switch:burst "$B/tests/integration/burst.img" role=count 200 \
		:: --net=switch:burst "$B/tests/integration/burst.img" role=send 200 >"$out" 2>&1
	expect "a burst sent just before exit arrives whole" $? 0 "$out" "burst: counted 200 of 200" \
		"hv: dom2 (burst.img): exited with 0"
}
vsw_burst
