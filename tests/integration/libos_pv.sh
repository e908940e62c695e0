# SPDX-License-Identifier: MIT
# Two domains on one hv through libos's paravirtual calls: apps/pingpong end to end over a
# shared-memory channel (every byte checked), the calls' contracts and error returns
# (tests/integration/guest/libos_pv_calls.c), a hostile channel peer on either side
# (tests/integration/guest/vchan_hostile.c) that the other side must report and survive,
# pingpong with no peer, and libos_pv_calls on QEMU, where every call must return -ENOSYS.
# Sourced by tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

PV_PP=$B/apps/pingpong.img
PV_CALLS=$B/tests/integration/libos_pv_calls.img
PV_HOSTILE=$B/tests/integration/vchan_hostile.img

# pv_case NAME WANT_STATUS SUBSTRINGS... -- HV_ARGS...: run hv, check its status and output.
pv_case() {
	local name=$1 want=$2 subs=() status
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	timeout 120 "$HV" "$@" >"$TMP/pv.out" 2>&1
	status=$?
	expect "$name" "$status" "$want" "$TMP/pv.out" "${subs[@]}"
}

# pv_count NAME STRING N: the last run printed STRING on exactly N lines.
pv_count() {
	local got
	got=$(grep -cF -- "$2" "$TMP/pv.out")
	if [[ $got == "$3" ]]; then ok "$1"; else
		not_ok "$1: '$2' on $got lines, want $3"
		sed 's/^/    output: /' "$TMP/pv.out" | tail -n 15
	fi
}

# pv_absent NAME STRING: the last run never printed STRING.
pv_absent() {
	if grep -qF -- "$2" "$TMP/pv.out"; then
		not_ok "$1: printed '$2'"
		grep -F -- "$2" "$TMP/pv.out" | head -n 5 | sed 's/^/    output: /'
	else
		ok "$1"
	fi
}

pv_tests() {
	# End to end: messages of 0 bytes to three rings each way, then 64 MiB each way.
	pv_case "pingpong: server and client over a vchan" 0 \
		"2000 messages of 0 to 196608 bytes each way, every byte checked" \
		"bulk: received 67108864 bytes" "hv: dom1 (pingpong.img): exited with 0" \
		"hv: dom2 (pingpong.img): exited with 0" \
		-- "$PV_PP" role=server :: "$PV_PP" role=client
	pv_count "pingpong: both domains say SUCCESS" SUCCESS 2
	pv_count "pingpong: both check the messages and 64 MiB received" "every byte checked" 4
	pv_absent "pingpong: no send was dropped (close waits for the ring)" "dropped"

	# A smaller ring and explicit peers: writers block, readers take partial reads.
	pv_case "pingpong: 4 KiB rings, explicit peers" 0 "hv: dom2 (pingpong.img): exited with 0" \
		-- "$PV_PP" role=server peer=2 ring=4096 n=300 bulk=4M :: \
		"$PV_PP" role=client peer=1 ring=4096 n=300 bulk=4M
	pv_count "pingpong: 4 KiB rings: both say SUCCESS" SUCCESS 2

	# The event channel alone, and a stream of small messages.
	pv_case "pingpong: event-channel round trips" 0 "evtchn round trip: median" \
		"hv: dom1 (pingpong.img): exited with 0" \
		-- "$PV_PP" role=server mode=evtchn n=2000 :: "$PV_PP" role=client mode=evtchn n=2000
	pv_case "pingpong: a stream of 64-byte messages" 0 "stream: 64-byte messages" \
		"hv: dom1 (pingpong.img): exited with 0" \
		-- "$PV_PP" role=server mode=stream n=64 bulk=8M :: \
		"$PV_PP" role=client mode=stream n=64 bulk=8M

	pv_case "pingpong: alone, no peer" 2 "FAILURE: no other domain in the store" -- "$PV_PP" role=server

	# The libos calls between two domains: every contract and error return.
	pv_case "libos_pv_calls: grants, events and the store between two domains" 0 \
		"ok - gnttab: end access while mapped (writable)" \
		"ok - gnttab: map a ref not granted" "ok - evtchn: send on a closed port" \
		"ok - store: write under another domain's folder" \
		"hv: dom2 (libos_pv_calls.img): exited with 0" \
		-- "$PV_CALLS" role=granter :: "$PV_CALLS" role=grantee
	pv_count "libos_pv_calls: both domains say SUCCESS" SUCCESS 2
	pv_absent "libos_pv_calls: no check failed" "FAIL"

	# A hostile peer: the victim reports the broken channel, exits 3 on its own, and hv
	# ends nobody (no fault, no ABI breach: both lines say "exited with").
	pv_case "vchan: a client moves prod past the ring: the server reports it" 3 \
		"libos: vchan to client domain 2: the peer broke the channel: the writer moved prod from 0 to 131072, with cons at 0" \
		"FAILURE: reading a message header: I/O error" "hostile: done" \
		"hv: dom1 (pingpong.img): exited with 3" "hv: dom2 (vchan_hostile.img): exited with 0" \
		-- "$PV_PP" role=server :: "$PV_HOSTILE" role=client lie=prod
	# A client that keeps the pages mapped: the server waits VCHAN_CLOSE_WAIT_NS (5 s), then
	# leaves them to it and says so; the channel's close is still clean.
	pv_case "vchan: a client that keeps the pages mapped: the server leaves them" 3 \
		"the client still maps the channel's pages; they are left to it, never reused" \
		"hv: dom1 (pingpong.img): exited with 3" "hv: dom2 (vchan_hostile.img): exited with 0" \
		-- "$PV_PP" role=server :: "$PV_HOSTILE" role=client lie=prod hold=6
	pv_case "vchan: a server moves prod backwards: the client reports it" 3 \
		"the peer broke the channel: the writer moved prod from 0 to 4294967196, with cons at 0" \
		"hv: dom1 (vchan_hostile.img): exited with 0" "hv: dom2 (pingpong.img): exited with 3" \
		-- "$PV_HOSTILE" role=server lie=prod :: "$PV_PP" role=client
	pv_case "vchan: a server moves cons past prod: the writing client reports it" 3 \
		"the peer broke the channel: the reader moved cons from 0 to 4097, with prod at 4096" \
		"FAILURE: stream write: I/O error" "hv: dom2 (pingpong.img): exited with 3" \
		-- "$PV_HOSTILE" role=server lie=cons :: "$PV_PP" role=client mode=stream n=4096 bulk=1M
	pv_case "vchan: a control page with a wrong magic is refused" 2 \
		"the control page is not a channel's: magic 0xbadc0de" "FAILURE: connecting: Protocol error" \
		"hv: dom1 (vchan_hostile.img): exited with 0" "hv: dom2 (pingpong.img): exited with 2" \
		-- "$PV_HOSTILE" role=server lie=magic :: "$PV_PP" role=client
	pv_case "vchan: a ring of 3 pages is refused" 2 "3 pages per ring" \
		"hv: dom2 (pingpong.img): exited with 2" \
		-- "$PV_HOSTILE" role=server lie=pages :: "$PV_PP" role=client
	pv_case "vchan: a data page that was never granted is refused" 2 \
		"the control page names a page that does not map: ref 4000 of ring page 0" \
		"hv: dom1 (vchan_hostile.img): exited with 0" "hv: dom2 (pingpong.img): exited with 2" \
		-- "$PV_HOSTILE" role=server lie=ref :: "$PV_PP" role=client

	# QEMU has no domains: every call says -ENOSYS, and pingpong says there is no peer.
	if command -v qemu-system-x86_64 >/dev/null; then
		timeout 60 mk/qemu-run.sh "$PV_CALLS" role=alone </dev/null >"$TMP/pv.out" 2>&1
		expect "libos_pv_calls on QEMU: every call returns -ENOSYS" $? 0 "$TMP/pv.out" \
			"ok - alone: alloc_unbound" "ok - alone: map" "ok - alone: store_write" SUCCESS
		timeout 60 mk/qemu-run.sh "$PV_PP" role=client </dev/null >"$TMP/pv.out" 2>&1
		expect "pingpong on QEMU: no peer, a clean exit" $? 2 "$TMP/pv.out" \
			"FAILURE: no other domain in the store"
	else
		skip "pv on QEMU: qemu-system-x86_64 is not installed"
	fi
}

if hv_has '::'; then
	pv_tests
else
	skip "pv: this hv runs one domain only (no '::' in hv --help)"
fi
