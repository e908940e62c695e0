#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make run: boot an appliance on hv. An app whose folder has a run.conf gets what it asks for
# there: a network (a tap device made here, the host end at 10.0.0.1, the guest at 10.0.0.2,
# removed again at exit; needs root), more memory, a disk, a URL to print.
#
# Usage: mk/run.sh [--gdb] BUILD_DIR APP [ARGS...]
# --gdb (make gdb): hv waits for gdb on 127.0.0.1:$GDB_PORT (default 1234) and gdb starts in
# the foreground, attached, stopped before the guest's first instruction; hv runs in a
# session of its own so that the terminal's Ctrl-C reaches gdb only (gdb passes it on).
# run.conf keys (shell syntax): NET=1, MEM=SIZE, DISK=FILE (relative to the build dir),
# URL=... (printed once the guest is up; @IP@ is the guest's address).
set -euo pipefail

debug=0
[[ ${1:-} == --gdb ]] && { debug=1; shift; }
B=$1 APP=$2
shift 2
IMAGE=$B/apps/$APP.img
TAP=${TAP:-pvkit0}
HOST_IP=10.0.0.1 GUEST_IP=10.0.0.2
NET=0 MEM= DISK= URL=
[[ -f apps/$APP/run.conf ]] && source "apps/$APP/run.conf"

opts=()
[[ -n $MEM ]] && opts+=(--mem="$MEM")
if [[ -n $DISK ]]; then
	# A disk the app keeps between runs: made empty (64 MiB) the first time.
	[[ -e $B/$DISK ]] || head -c $((64 << 20)) /dev/zero >"$B/$DISK"
	opts+=(--disk="$B/$DISK")
fi
args=("$@")
if ((NET)); then
	if ((EUID != 0)); then
		echo "make run APP=$APP needs root: it creates the tap device $TAP for the appliance" >&2
		exit 1
	fi
	made_tap=0
	if ! ip link show "$TAP" >/dev/null 2>&1; then
		ip tuntap add "$TAP" mode tap
		ip addr add "$HOST_IP/24" dev "$TAP"
		made_tap=1
	fi
	ip link set "$TAP" up
	cleanup() { ((made_tap)) && ip link del "$TAP" 2>/dev/null || true; }
	trap cleanup EXIT
	opts+=(--net="$TAP")
	args=("ip=$GUEST_IP/24" "gw=$HOST_IP" "${args[@]}")
	if [[ -n $URL ]]; then
		echo "run: $APP on hv, reachable from this host at ${URL//@IP@/$GUEST_IP} (tap $TAP," \
			"host $HOST_IP); stop it with Ctrl-C"
	fi
fi
if ((debug)); then
	port=${GDB_PORT:-1234}
	setsid "$B/hv" --gdb="$port" "${opts[@]}" "$IMAGE" "${args[@]}" &
	hv_pid=$!
	gdb -q -ex "target remote :$port" "$IMAGE" || true
	wait "$hv_pid"
	exit
fi
"$B/hv" "${opts[@]}" "$IMAGE" "${args[@]}"
