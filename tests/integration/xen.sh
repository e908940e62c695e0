# SPDX-License-Identifier: MIT
# The Xen platform on a real Xen (Debian's 4.17) inside QEMU TCG, no hv and no /dev/kvm: the
# images hv runs, booted by mk/xen-run.sh as Xen's dom0, once as a PV guest and once as a PVH
# guest, each checked for its output and exit status: arguments, libc, threads and sleeps on
# Xen's timer, the wall clock, exits, panics and CPU exceptions (the fault report), and libos's
# event channels, timer VIRQ and grant tables within the domain (guest/pv_loopback). Sourced by
# tests/run.sh (B, TMP and the helpers of tests/lib.sh are set), or run alone:
#   tests/integration/xen.sh BUILD_DIR        (make test-xen-dom0)

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -uo pipefail
	B=${1:?usage: tests/integration/xen.sh BUILD_DIR}
	TMP=$(mktemp -d)
	trap 'rm -rf "$TMP"' EXIT
	source "$(dirname "$0")/../lib.sh"
	section "integration: xen"
	xen_standalone=1
fi

XG=$B/tests/guest

# xen_case MODE NAME WANT_STATUS SUBSTRINGS... -- IMAGE ARGS...: boot as a MODE (pv or pvh)
# dom0, check status and output; Xen's own lines are kept in $TMP/xen.log.
xen_case() {
	local mode=$1 name=$2 want=$3 subs=() status
	shift 3
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	BUILD=$B XEN_LOG=$TMP/xen.log timeout 60 mk/xen-run.sh "--$mode" "$@" </dev/null \
		>"$TMP/xout" 2>&1
	status=$?
	expect "xen $mode: $name" "$status" "$want" "$TMP/xout" "${subs[@]}"
}

xen_mode_tests() {
	local m=$1 self_map=()

	PVH_DEBUG=1 xen_case "$m" "hello boots as dom0, with its arguments" 0 \
		"xen: $(tr a-z A-Z <<<"$m") dom0" "timer port" "Hello from the hello appliance!" \
		"argv[0] = \"$B/apps/hello.img\"" 'argv[1] = "x y"' 'argv[2] = ""' 'argv[3] = "z"' \
		"monotonic time since boot" -- "$B/apps/hello.img" "x y" "" z
	xen_case "$m" "guest/args: argv as on hv" 0 SUCCESS -- "$XG/args.img" one "two words" ""
	xen_case "$m" "guest/libc" 0 SUCCESS -- "$XG/libc.img"
	xen_case "$m" "guest/threads (block with deadlines)" 0 SUCCESS -- "$XG/threads.img"
	xen_case "$m" "guest/sleep (Xen's one-shot timer)" 0 SUCCESS -- "$XG/sleep.img"
	# The guest reads the clock after Xen's boot: between the host's times before and after.
	local t0 t1 guest
	t0=$(date +%s)
	xen_case "$m" "guest/wallclock: not behind the host's, moves forward" 0 SUCCESS \
		-- "$XG/wallclock.img" "$t0" 60
	t1=$(date +%s)
	guest=$(sed -n 's/^host [0-9]*, guest \([0-9]*\)\..*/\1/p' "$TMP/xout")
	if [[ -n $guest ]] && ((guest >= t0 - 2 && guest <= t1 + 1)); then
		ok "xen $m: guest/wallclock: $guest lies within the run ($t0-$t1)"
	else
		not_ok "xen $m: guest/wallclock: ${guest:-nothing} is outside the run ($t0-$t1)"
	fi

	# Event channels, the timer VIRQ and grant tables within dom0. A PVH domain cannot map its
	# own grant (Xen would take the page from its address): libos refuses, the rest holds.
	[[ $m == pvh ]] && self_map=(no-self-map)
	xen_case "$m" "guest/pv_loopback: event channels, timer VIRQ, grants" 0 \
		"ok - a send on the second end runs the first's handler" \
		"ok - STATUS: after the close the first end is unbound" \
		"ok - a sleep's deadline makes the timer VIRQ pending" \
		"ok - a copy from the grant" "ok - access ends (the grant is revoked)" \
		"ok - a copy after the revoke is refused" SUCCESS \
		-- "$XG/pv_loopback.img" "${self_map[@]}"
	if [[ $m == pv ]]; then
		expect "xen pv: guest/pv_loopback: our grant maps, writes show both ways" 0 0 \
			"$TMP/xout" "ok - writes show through both ways" \
			"ok - access cannot end while mapped" "ok - it maps read-only and reads the page"
	else
		expect "xen pvh: guest/pv_loopback: a map of our own grant is refused" 0 0 \
			"$TMP/xout" "ok - a map of our own grant is refused (Xen PVH)"
	fi

	# Exits: statuses through isa-debug-exit, as on QEMU (top bit dropped).
	xen_case "$m" "guest/exit_status: exit(42)" 42 "atexit handler ran" \
		"buffered without newline" -- "$XG/exit_status.img"
	xen_case "$m" "guest/return_main: return 7" 7 -- "$XG/return_main.img"
	xen_case "$m" "guest/panic: 255 arrives as 127" 127 \
		"libos: panic: invariant broken: 42 != 43" -- "$XG/panic.img"
	xen_case "$m" "guest/abort: 134 arrives as 6" 6 "libos: killed by signal 6" \
		-- "$XG/abort.img"

	# CPU exceptions: the fault report, status 80, as on hv and QEMU.
	xen_case "$m" "guest/null_deref" 80 "pvh: guest fault: page fault (#PF), vector 14" \
		"address 0x0 (read: null pointer dereference)" "pvh:   #1 0x" -- "$XG/null_deref.img"
	xen_case "$m" "guest/div_zero" 80 "pvh: guest fault: divide error (#DE), vector 0" \
		-- "$XG/div_zero.img"
	xen_case "$m" "guest/invalid_opcode" 80 "invalid opcode (#UD), vector 6" \
		-- "$XG/invalid_opcode.img"
}

xen_tests() {
	local start=$SECONDS

	xen_mode_tests pv
	xen_mode_tests pvh
	# A stack overflow: PVH has a stack of its own for #DF; a PV guest has none (Xen puts the
	# frame on the overflowed stack), so Xen crashes the domain and reboots.
	xen_case pvh "guest/stack_overflow: #DF on its own stack" 80 \
		"double fault (#DF), vector 8" "(stack overflow into the guard page)" \
		-- "$XG/stack_overflow.img"
	xen_case pv "guest/stack_overflow: Xen crashes the domain" 82 \
		"Xen rebooted after dom0 ended" -- "$XG/stack_overflow.img"
	expect "xen pv: guest/stack_overflow: Xen's log says dom0 crashed" 0 0 "$TMP/xen.log" \
		"Hardware Dom0 crashed"

	# The runner's own statuses.
	xen_case pv "runner: no image is 66" 66 "no such readable file" -- "$TMP/missing.img"
	xen_case pv "runner: a double quote cannot pass" 64 "double quote" \
		-- "$B/apps/hello.img" 'say "hi"'
	echo "# xen tests took $((SECONDS - start)) s"
}

if ! command -v qemu-system-x86_64 >/dev/null; then
	skip "xen: qemu-system-x86_64 is not installed (make deps installs it)"
else
	xen_tests
fi

if [[ -n ${xen_standalone:-} ]]; then
	summary
fi
