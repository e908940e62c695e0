#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make test-xen: the images as Xen domUs, the way a Xen host runs them. mk/xen-domu.sh boots
# Xen 4.17 in QEMU TCG with a Debian Linux dom0 whose xl creates the image as a PV domU and
# as a PVH domU (about 12 s a run, no /dev/kvm). Checked on each kind: the console ring
# (hello's output and arguments), exits (poweroff for 0, crash otherwise, with the status on
# the console), xenstore (read, write, watches, transactions: guest/store_ops), event channels
# and grants within the domain (guest/pv_loopback), blkfront (a disk written in one boot and
# verified in the next), netfront (dom0 pings the domain and fetches httpd's page from it),
# and kvstore over both (a SET in one boot, its GET after the next).
#
# Usage: tests/xen-domu.sh BUILD_DIR      (after make test-build; run from the project root)
set -uo pipefail

B=${1:?usage: tests/xen-domu.sh BUILD_DIR}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
source "$(dirname "$0")/lib.sh"

G=$B/tests/guest
DOMU=mk/xen-domu.sh
NET=10.80.0 # the bridge's network in dom0 (mk/xen-domu.sh), dom0 at .1

# domu_case MODE NAME WANT_STATUS SUBSTRINGS... -- OPTIONS... IMAGE ARGS...
domu_case() {
	local mode=$1 name=$2 want=$3 subs=() status
	shift 3
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	BUILD=$B "$DOMU" "--$mode" "$@" </dev/null >"$TMP/out" 2>&1
	status=$?
	expect "xen domU $mode: $name" "$status" "$want" "$TMP/out" "${subs[@]}"
}

domu_tests() {
	local m=$1 self_map=() disk=$TMP/disk-$1.img

	domu_case "$m" "hello on the console ring, with its arguments" 0 \
		"Hello from the hello appliance!" "argv[0] = \"$B/apps/hello.img\"" \
		'argv[1] = "x y"' 'argv[2] = ""' 'argv[3] = "z"' -- "$B/apps/hello.img" "x y" "" z
	domu_case "$m" "exit 7: the domain crashes, its status on the console" 83 \
		"xen: exit status 7" -- "$G/return_main.img"
	domu_case "$m" "a fault is reported on the console" 83 \
		"pvh: guest fault: page fault (#PF), vector 14" -- "$G/null_deref.img"

	domu_case "$m" "xenstore: read, write, watches, transactions" 0 \
		"ok - it fires once when set" "ok - and again for a write below it" \
		"ok - no event after it is removed" "ok - committed: both writes appear" \
		"ok - aborted: its write never appears" \
		"ok - a transaction that lost a race ends with -EAGAIN" SUCCESS \
		-- "$G/store_ops.img" xen
	[[ $m == pvh ]] && self_map=(no-self-map)
	domu_case "$m" "event channels, timer VIRQ and grants within the domain" 0 \
		"ok - a send on the second end runs the first's handler" \
		"ok - a sleep's deadline makes the timer VIRQ pending" \
		"ok - a copy from the grant" SUCCESS -- "$G/pv_loopback.img" "${self_map[@]}"

	# blkfront: written in one boot, verified from the file in the next.
	head -c 4194304 /dev/zero >"$disk"
	domu_case "$m" "blkfront: a disk written" 0 "wrote 8192 sectors with seed 5" SUCCESS \
		-- --disk "$disk" "$B/apps/blktest.img" write 5
	domu_case "$m" "blkfront: the next boot verifies it" 0 "verified 8192 sectors with seed 5" \
		SUCCESS -- --disk "$disk" "$B/apps/blktest.img" verify 5

	# netfront: dom0 pings the domain and fetches httpd's page from it over the bridge (with
	# nc: busybox's static wget crashes here); the server then runs until the rig's time limit
	# ends it (84).
	XEN_DOMU_TIMEOUT=30 XEN_DOMU_DOM0_CMD="ping -c 3 -w 20 $NET.2
		for i in \$(seq 20); do
			printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $NET.2 80 >/tmp/page 2>&1 &&
				grep -q 'It works' /tmp/page && break
			sleep 1
		done
		cat /tmp/page" \
		domu_case "$m" "netfront: dom0 pings the domain and fetches httpd's page" 84 \
		"64 bytes from $NET.2" "HTTP/1.1 200 OK" "<title>pvkit httpd</title>" "<h1>It works.</h1>" \
		-- --vif "$B/apps/httpd.img" "ip=$NET.2/24" "gw=$NET.1"

	# kvstore on both: a SET acknowledged in one boot is in its log on the disk (blkfront),
	# and a GET from dom0 (RESP by hand through nc) finds it after the next boot (netfront).
	local kv=$TMP/kv-$m.img set get
	set='*3\r\n$3\r\nSET\r\n$4\r\nwhat\r\n$8\r\nxen-disk\r\n'
	get='*2\r\n$3\r\nGET\r\n$4\r\nwhat\r\n'
	head -c 8388608 /dev/zero >"$kv"
	XEN_DOMU_TIMEOUT=25 XEN_DOMU_DOM0_CMD="$(resp_cmd "$set")" \
		domu_case "$m" "kvstore: a SET over netfront, logged through blkfront" 84 \
		"kvstore: log on xen-vbd0" "0 records replayed" "+OK" \
		-- --vif --disk "$kv" "$B/apps/kvstore.img" "ip=$NET.2/24" "gw=$NET.1"
	XEN_DOMU_TIMEOUT=25 XEN_DOMU_DOM0_CMD="$(resp_cmd "$get")" \
		domu_case "$m" "kvstore: the next boot replays its log and answers the GET" 84 \
		"1 records replayed" "xen-disk" -- --vif --disk "$kv" "$B/apps/kvstore.img" "ip=$NET.2/24" "gw=$NET.1"
}

# resp_cmd RESP: dom0's command that sends RESP (printf escapes) to kvstore once it answers.
resp_cmd() {
	printf '%s\n' "for i in \$(seq 20); do" \
		"printf '$1' | nc -w 2 $NET.2 6379 >/tmp/reply 2>&1 && [ -s /tmp/reply ] && break" \
		"sleep 1; done; cat /tmp/reply"
}

section "Xen domUs, created by xl in a Linux dom0 (Xen 4.17 in QEMU TCG)"
start=$SECONDS
domu_tests pv
domu_tests pvh
echo "# xen domU tests took $((SECONDS - start)) s"
summary
