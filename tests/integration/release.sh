# SPDX-License-Identifier: MIT
# A domain that ends gives back its disk's lock and its tap at once, while its hv runs on with
# another domain: a second hv takes the same disk (read-write) and the same tap and reads what
# the first domain wrote. Without that, the second hv would wait for the whole first hv to
# end. Needs root for the tap (else SKIP). Sourced by tests/run.sh (B, HV, TMP and the helpers
# of tests/lib.sh are set).

RL_NS=pvkit-release-$$
RL_WAIT_S=2 # the most the second hv may need, retries included, once the first domain is done

release_tests() {
	local disk=$TMP/release.img conf=$TMP/release.conf pid t0 t1 status
	head -c $((1 << 20)) /dev/zero >"$disk"
	cat >"$conf" <<EOF
--name=writer --disk=$disk --net=tap0 $B/apps/blktest.img write 21 2048
--name=sleeper $B/tests/integration/sleeper.img
EOF
	: >"$TMP/release-first.out"
	ip netns exec "$RL_NS" "$HV" --config="$conf" >"$TMP/release-first.out" 2>&1 &
	pid=$!
	wait_line "$TMP/release-first.out" "verified 2048 sectors with seed 21" "$pid" 20
	wait_line "$TMP/release-first.out" "sleeper: sleeping" "$pid" 20
	if ! grep -q "verified 2048 sectors with seed 21" "$TMP/release-first.out" ||
		! kill -0 "$pid" 2>/dev/null; then
		not_ok "release: the first hv's writer did not finish while its sleeper ran"
		sed 's/^/    output: /' "$TMP/release-first.out" | tail -n 10
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return
	fi
	# The writer printed its last line; its domain ends a moment later. Try until it has.
	t0=$(date +%s%N)
	while :; do
		ip netns exec "$RL_NS" "$HV" --disk="$disk" --net=tap0 "$B/apps/blktest.img" verify 21 2048 \
			>"$TMP/release-second.out" 2>&1
		status=$?
		t1=$(date +%s%N)
		[[ $status == 0 || $(((t1 - t0) / 1000000)) -ge $((RL_WAIT_S * 1000)) ]] && break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		ok "release: the first hv still runs its sleeper while the second starts"
	else
		not_ok "release: the first hv ended before the second could start"
	fi
	expect "release: a second hv takes the disk and the tap of the ended domain" "$status" 0 \
		"$TMP/release-second.out" "verified 2048 sectors with seed 21" SUCCESS
	echo "# release: the second hv ran $(((t1 - t0) / 1000000)) ms after the writer's last line"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# The sleeper was stopped from outside (hv's status for a signal); the writer exited 0.
	expect "release: the first hv reports its writer exited 0" 0 0 "$TMP/release-first.out" \
		"hv: dom1 (writer): exited with 0"
}

if net_usable && hv_has --net=; then
	if netns_up "$RL_NS" 10.81.0; then
		release_tests
	else
		not_ok "release: cannot make the network namespace"
	fi
	netns_down "$RL_NS"
else
	skip "release: needs root, ip and /dev/net/tun for the tap"
fi
