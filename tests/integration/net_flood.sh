# SPDX-License-Identifier: MIT
# A domain that floods hv's switch cannot starve the others. apps/nettest answers
# tests/integration/guest/pinger.c over a switch, first alone, then while a third domain
# (tests/integration/guest/net_flood.c) sends frames as fast as it can on the same switch:
# broadcast, unicast to nettest's MAC, unicast to the pinger's. Every ping must be answered in
# time, with the flood running from before the first ping to after the last. The round trips,
# the frames flooded and what the switch dropped or refused at each victim are printed as
# measured lines. Needs hv's several domains ('::'; else SKIP). Sourced by tests/run.sh (B, HV,
# TMP and the helpers of tests/lib.sh are set).

NF_PINGS=100
NF_PING_WAIT_MS=300 # the pinger's start: after the flood's
NF_FLOOD_MS=2000    # longer than the pings take, flood or not
NF_PING_SECONDS=5   # the most the pings may take from hv's start; a lost reply costs 1 s
NF_NETTEST_MAC=02:00:5e:0f:00:01
NF_PINGER_MAC=02:00:5e:0f:00:02

# nf_line FILE REGEX: the number of the first line of FILE that matches REGEX, or 0.
nf_line() {
	local n
	n=$(grep -nE -m1 -- "$2" "$1" | cut -d: -f1)
	echo "${n:-0}"
}

# nf_port FILE DOMAIN: what the switch did with the frames sent to DOMAIN's NIC, from --stats.
nf_port() {
	local rx='rx \([0-9]*\) packets [0-9]* bytes (\([^)]*\))'
	sed -n "s/^hv: $2: stats: virtio-net0: switch nf port [0-9]*: $rx.*/\1 delivered, \2/p" "$1"
}

# nf_run NAME [FLOOD_ARGS...]: nettest and the pinger on one switch and, with FLOOD_ARGS, the
# flooder before them (so that it floods from the start); check and report. nettest exits once
# it has answered every ping, the flooder when its time is up, and then hv, with status 0.
nf_run() {
	local name=$1 out=$TMP/nf.out pid status t0 ms=0 flood=() want=() problems=() s
	local order a b c d
	shift
	if (($#)); then
		flood=(--name=flooder --net=switch:nf "$B/tests/integration/net_flood.img" "$@"
			"ms=$NF_FLOOD_MS" ::)
		want=("hv: dom1 (flooder): exited with 0")
	fi
	t0=$(date +%s%N)
	timeout -k 5 30 "$HV" --stats "${flood[@]}" \
		--name=nettest --net=switch:nf,mac=$NF_NETTEST_MAC "$B/apps/nettest.img" \
		ip=10.8.0.2 replies=$NF_PINGS \
		:: --name=pinger --net=switch:nf,mac=$NF_PINGER_MAC "$B/tests/integration/pinger.img" \
		ip=10.8.0.1 peer=10.8.0.2 count=$NF_PINGS wait=$NF_PING_WAIT_MS >"$out" 2>&1 &
	pid=$!
	wait_line "$out" '^(SUCCESS|FAILURE)' "$pid" 30
	ms=$((($(date +%s%N) - t0) / 1000000))
	# Pings without a reply: nettest would wait for them until the timeout.
	grep -q '^FAILURE' "$out" && kill "$pid" 2>/dev/null
	wait "$pid"
	status=$?
	((status == 0)) || problems+=("hv's exit status $status, expected 0 (124 or 137: it hung)")
	for s in "pinger: $NF_PINGS of $NF_PINGS replies" SUCCESS "${want[@]}" \
		"(nettest): exited with 0" "(pinger): exited with 0"; do
		grep -qF -- "$s" "$out" || problems+=("output lacks: $s")
	done
	((ms <= NF_PING_SECONDS * 1000)) ||
		problems+=("the pings took $ms ms from hv's start (at most $((NF_PING_SECONDS * 1000)))")
	if ((${#flood[@]})); then
		# The flood covered the pings: it began before the first and ended after the last.
		order="$(nf_line "$out" '^net_flood: flooding') $(nf_line "$out" '^pinger: pinging')"
		order+=" $(nf_line "$out" '^pinger: [0-9]+ of') $(nf_line "$out" '^net_flood: sent')"
		read -r a b c d <<<"$order"
		((a > 0 && a < b && b < c && c < d)) ||
			problems+=("the flood did not cover the pings (lines $order)")
	fi
	if ((${#problems[@]} == 0)); then ok "flood: $name: every ping answered"; else
		not_ok "flood: $name: every ping answered"
		printf '    %s\n' "${problems[@]}"
		grep -vE '^hv: [a-z]+: stats:  ' "$out" | sed 's/^/    output: /' | head -n 25
	fi
	printf '    measured: %s: %s, %s, pings done %s ms after hv started\n' "$name" \
		"$(sed -n 's/^pinger: \([0-9]* of [0-9]* replies\)/\1/p' "$out")" \
		"$(sed -n 's/^pinger: rtt \(.*\)/rtt \1/p' "$out")" "$ms"
	if ((${#flood[@]})); then
		printf '    measured: %s: %s; at nettest: %s; at the pinger: %s\n' "$name" \
			"$(sed -n 's/^net_flood: \(sent .*\)/flooder \1/p' "$out")" \
			"$(nf_port "$out" nettest)" "$(nf_port "$out" pinger)"
	fi
}

if hv_has '::'; then
	nf_run "no flood"
	nf_run "broadcast flood" mode=bcast
	nf_run "unicast flood to nettest" mode=unicast mac=$NF_NETTEST_MAC
	nf_run "unicast flood to the pinger" mode=unicast mac=$NF_PINGER_MAC
else
	skip "flood: this hv runs one domain per process (no '::' in hv --help)"
fi
