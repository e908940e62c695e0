# SPDX-License-Identifier: MIT
# The PVH platform on stock QEMU -M microvm (TCG): the images hv runs, booted through their PVH
# note by mk/qemu-run.sh, each checked for its output and exit status (through isa-debug-exit's
# mapping), plus the clocks' calibration, virtio-mmio discovery and interrupts (virtio-blk, and
# virtio-net with httpd when curl is here), and the runner's own exit codes. Sourced by
# tests/run.sh (B, TMP and the helpers of tests/lib.sh are set), or run alone:
#   tests/integration/qemu.sh BUILD_DIR        (make test-qemu)

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -uo pipefail
	B=${1:?usage: tests/integration/qemu.sh BUILD_DIR}
	TMP=$(mktemp -d)
	trap 'rm -rf "$TMP"' EXIT
	source "$(dirname "$0")/../lib.sh"
	section "integration: qemu"
	qemu_standalone=1
fi

QEMU_RUN=mk/qemu-run.sh
QG=$B/tests/guest

# qemu_case NAME WANT_STATUS SUBSTRINGS... -- IMAGE ARGS...: boot on QEMU, check status and output.
qemu_case() {
	local name=$1 want=$2 subs=() status
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	timeout 30 "$QEMU_RUN" "$@" </dev/null >"$TMP/qout" 2>&1
	status=$?
	expect "qemu: $name" "$status" "$want" "$TMP/qout" "${subs[@]}"
}

# The function an address of the image lies in, from its debug information.
function_at() {
	addr2line -f -e "$1" "$2" | head -n 1
}

# fault_frames NAME IMAGE FUNCTION...: the reported frames #0, #1 ... lie in these functions.
fault_frames() {
	local name=$1 image=$2 depth=0 addr got
	shift 2
	for want; do
		addr=$(sed -n "s/^pvh:   #$depth \(0x[0-9a-f]*\).*/\1/p" "$TMP/qout")
		got=$(function_at "$image" "${addr:-0}")
		if [[ $got != "$want" ]]; then
			not_ok "qemu: $name: frame #$depth ${addr:-missing} is in $got, not $want"
			return
		fi
		depth=$((depth + 1))
	done
	ok "qemu: $name: frames #0-#$((depth - 1)) are in $*"
}

# counted NAME PATTERN: the last run's interrupt counts (pvh.debug, at exit) match PATTERN.
counted() {
	local line
	line=$(grep '^pvh: interrupts: ' "$TMP/qout")
	if [[ $line =~ $2 ]]; then ok "qemu: $1 (${line#pvh: interrupts: })"; else
		not_ok "qemu: $1: interrupts counted: ${line:-none}"; fi
}

qemu_tests() {
	local start=$SECONDS

	# Arguments through -append: quoting keeps blanks and empty arguments; argv[0] is the image.
	qemu_case "hello runs, with its arguments" 0 "Hello from the hello appliance!" \
		"argv[0] = \"$B/apps/hello.img\"" 'argv[1] = "x y"' 'argv[2] = ""' 'argv[3] = "z"' \
		"pi is about 3.14" "monotonic time since boot" -- "$B/apps/hello.img" "x y" "" z
	qemu_case "guest/args: argv as on hv" 0 SUCCESS -- "$QG/args.img" one "two words" ""
	qemu_case "guest/libc" 0 SUCCESS -- "$QG/libc.img"
	qemu_case "guest/threads (block with deadlines)" 0 SUCCESS -- "$QG/threads.img"

	# Statuses 0-127 come through isa-debug-exit as they are.
	qemu_case "guest/exit_status: exit(42)" 42 "atexit handler ran" "buffered without newline" \
		-- "$QG/exit_status.img"
	qemu_case "guest/return_main: return 7" 7 -- "$QG/return_main.img"

	# Clocks: sleep by the LAPIC timer on the measured TSC; wall clock from the RTC.
	PVH_DEBUG=1 qemu_case "guest/sleep" 0 SUCCESS -- "$QG/sleep.img"
	counted "guest/sleep: woken by the LAPIC timer" "[1-9][0-9]* from the timer"
	qemu_case "guest/wallclock agrees with the host" 0 SUCCESS \
		-- "$QG/wallclock.img" "$(date +%s)"
	# QEMU's emulated LAPIC timer runs at exactly 1 GHz: the PIT measurement, which goes
	# through the TSC's, must find that to within 0.1%.
	PVH_DEBUG=1 qemu_case "calibration is reported" 0 "pvh: TSC " "LAPIC timer" \
		-- "$B/apps/hello.img"
	local lapic
	lapic=$(sed -n 's/.*LAPIC timer \([0-9]*\) Hz.*/\1/p' "$TMP/qout")
	if [[ -n $lapic ]] && ((lapic > 999000000 && lapic < 1001000000)); then
		ok "qemu: LAPIC timer measured at $lapic Hz (QEMU's is 1000000000)"
	else
		not_ok "qemu: LAPIC timer measured at ${lapic:-nothing} Hz, QEMU's is 1000000000"
	fi

	# Statuses 128-255 lose their top bit: panic's 255 arrives as 127, abort's 134 as 6.
	qemu_case "guest/panic: 255 arrives as 127" 127 "libos: panic: invariant broken: 42 != 43" \
		"libos: backtrace: 0x" -- "$QG/panic.img"
	qemu_case "guest/abort: 134 arrives as 6" 6 "libos: killed by signal 6" -- "$QG/abort.img"

	# CPU exceptions: the platform's IDT reports them and exits with 80, as hv does.
	qemu_case "guest/null_deref" 80 "pvh: guest fault: page fault (#PF), vector 14" \
		"address 0x0 (read: null pointer dereference)" -- "$QG/null_deref.img"
	fault_frames "guest/null_deref" "$QG/null_deref.img" read_through main
	qemu_case "guest/div_zero" 80 "pvh: guest fault: divide error (#DE), vector 0" \
		-- "$QG/div_zero.img"
	fault_frames "guest/div_zero" "$QG/div_zero.img" divide
	qemu_case "guest/invalid_opcode" 80 "invalid opcode (#UD), vector 6" \
		-- "$QG/invalid_opcode.img"
	qemu_case "guest/stack_overflow: #DF on its own stack" 80 \
		"double fault (#DF), vector 8" "(stack overflow into the guard page)" \
		-- "$QG/stack_overflow.img"

	# Virtio-mmio: a modern block device, found from QEMU's command-line entry, then by
	# probing the slots; its interrupts drive libos's virtio-blk driver.
	local disk=$TMP/qemu-disk.img blk
	head -c 2097152 /dev/zero >"$disk"
	blk="-drive if=none,id=d0,file=$disk,format=raw -device virtio-blk-device,drive=d0"
	QEMU_OPTS=$blk PVH_DEBUG=1 qemu_case "virtio-blk: write and verify through interrupts" 0 \
		"pvh: virtio-mmio at 0xfeb00e00: device 2 (block), virtio 1.x," \
		"GSI 12 -> vector 0x2c, ports 1-4" \
		"wrote 4096 sectors with seed 9" SUCCESS -- "$B/apps/blktest.img" write 9
	counted "virtio-blk: completions interrupt" "[1-9][0-9]* from devices"
	QEMU_OPTS="$blk -M auto-kernel-cmdline=off" PVH_DEBUG=1 qemu_case \
		"virtio-blk: found by probing the slots, data persisted" 0 \
		"pvh: no virtio_mmio.device= entries: probing 8 slots from 0xfeb00000, GSIs 5-12" \
		"pvh: virtio-mmio at 0xfeb00e00: device 2 (block)" \
		"verified 4096 sectors with seed 9" \
		-- "$B/apps/blktest.img" verify 9
	QEMU_OPTS="$blk -global virtio-mmio.force-legacy=on" PVH_DEBUG=1 qemu_case \
		"virtio-blk: a legacy device is listed, and libos refuses it" 1 \
		"legacy (libos refuses it" \
		"is legacy (version 1)" -- "$B/apps/blktest.img" verify 9
	qemu_case "no devices: the console stays quiet" 0 -- "$B/apps/hello.img"
	if grep -q '^pvh:' "$TMP/qout"; then not_ok "qemu: boot messages without pvh.debug"; fi

	# Virtio-net: httpd gets a DHCP lease from QEMU's user network and answers through a
	# forwarded port.
	if command -v curl >/dev/null; then
		local port=$((20000 + RANDOM % 20000)) pid code=000 url net
		url=http://127.0.0.1:$port/
		net="-netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80"
		net+=" -device virtio-net-device,netdev=n0"
		QEMU_OPTS=$net timeout 30 "$QEMU_RUN" "$B/apps/httpd.img" dhcp_wait=5 \
			</dev/null >"$TMP/qhttpd" 2>&1 &
		pid=$!
		for _ in $(seq 50); do
			code=$(curl -s -m 2 -o "$TMP/qbody" -w '%{http_code}' "$url")
			[[ $code == 200 ]] && break
			sleep 0.1
		done
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		if [[ $code == 200 ]] && cmp -s "$TMP/qbody" apps/httpd/rootfs/index.html; then
			ok "qemu: httpd over virtio-net answers GET / (200, index.html)"
		else
			not_ok "qemu: httpd over virtio-net: GET / gave $code"
			sed 's/^/    output: /' "$TMP/qhttpd" | head -n 10
		fi
	else
		skip "qemu: httpd over virtio-net: no curl here"
	fi

	# Without isa-debug-exit, the guest still ends QEMU: a triple fault under -no-reboot.
	timeout 30 qemu-system-x86_64 -M microvm,acpi=off -accel tcg -cpu max -m 64M -nodefaults \
		-no-user-config -nographic -serial stdio -no-reboot -kernel "$QG/return_main.img" \
		</dev/null >"$TMP/qout" 2>&1
	expect "qemu: without isa-debug-exit, QEMU still ends (exit code 0)" $? 0 "$TMP/qout" \
		"pvh: exit status 7: no isa-debug-exit device"

	# The runner's own statuses, with a stand-in for QEMU.
	printf '#!/bin/sh\nexit 0\n' >"$TMP/qemu-reset" && chmod +x "$TMP/qemu-reset"
	QEMU=$TMP/qemu-reset qemu_case "runner: a guest reset is 82" 82 "without isa-debug-exit" \
		-- "$B/apps/hello.img"
	printf '#!/bin/sh\necho "qemu-fail: -kernel: bad" >&2\nexit 1\n' >"$TMP/qemu-fail"
	chmod +x "$TMP/qemu-fail"
	QEMU=$TMP/qemu-fail qemu_case "runner: QEMU failing to start is 69, not status 0" 69 \
		"QEMU failed to start" -- "$B/apps/hello.img"
	QEMU=$TMP/missing-qemu qemu_case "runner: no QEMU is 69" 69 "not found; install it with" \
		-- "$B/apps/hello.img"
	qemu_case "runner: no image is 66" 66 "no such readable file" -- "$TMP/missing.img"
	qemu_case "runner: a double quote cannot pass" 64 "double quote" \
		-- "$B/apps/hello.img" 'say "hi"'
	qemu_case "runner: arguments QEMU's loader would cut are refused" 64 "arguments too long" \
		-- "$B/apps/hello.img" "$(printf '%04000d' 0)"

	echo "# qemu tests took $((SECONDS - start)) s"
}

if ! command -v qemu-system-x86_64 >/dev/null; then
	skip "qemu: qemu-system-x86_64 is not installed (make deps installs it)"
else
	qemu_tests
fi

if [[ -n ${qemu_standalone:-} ]]; then
	summary
fi
