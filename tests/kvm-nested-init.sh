#!/bin/sh
# SPDX-License-Identifier: MIT
# The /init of make test-kvm-nested's VM: Linux under QEMU's TCG with -cpu max, whose emulated
# CPU has SVM with nested paging. Loads kvm and kvm-amd, checks that /dev/kvm appeared, runs
# the cases tests/kvm-nested.sh wrote into /cases.sh with hv on its kvm backend, prints one
# result line each and a summary, and powers the VM off. Runs under busybox sh (ash): no
# bash features.
#
# What it prints for tests/kvm-nested.sh to read: "ok - NAME" or "FAIL - NAME" with indented
# details, "N passed, M failed" at the end, and "kvm-nested: ..." lines about the VM itself
# ("kvm-nested: no /dev/kvm" when the modules gave none).

PATH=/bin
HV_BACKEND=kvm
export PATH HV_BACKEND
CASE_TIMEOUT=60 # seconds of the VM's time for one case: each takes a few
T=/tmp/case      # a case's files: $T.stdout, $T.stderr, $T.output (both, in that order)

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
echo # the firmware's last line has no newline: ours start on a line of their own

# Ends the VM (QEMU runs with -no-reboot, so this ends QEMU). init must never return.
halt_vm() {
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 10
}

# The modules, dependencies first, in the order /lib/modules/order lists them.
for m in $(cat /lib/modules/order); do # one name a line, no blanks
	if ! out=$(insmod "/lib/modules/$m" 2>&1); then
		echo "kvm-nested: insmod $m failed: $out"
	fi
done
if [ ! -c /dev/kvm ]; then
	echo "kvm-nested: no /dev/kvm after loading $(tr '\n' ' ' </lib/modules/order)"
	if grep -qw svm /proc/cpuinfo; then
		echo "kvm-nested:   the CPU has svm: $(grep -m1 '^flags' /proc/cpuinfo |
			grep -ow -e svm -e npt -e nrip_save | tr '\n' ' ')"
	else
		echo "kvm-nested:   the CPU has no svm flag (QEMU's -cpu max under TCG should give it)"
	fi
	echo "kvm-nested:   vendor $(grep -m1 '^vendor_id' /proc/cpuinfo | sed 's/.*: //')," \
		"modules loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
	dmesg | grep -i -e kvm -e svm -e ccp -e irqbypass | sed 's/^/kvm-nested:   dmesg: /'
	halt_vm
fi
echo "kvm-nested: /dev/kvm is up (Linux $(uname -r), $(grep -m1 '^model name' /proc/cpuinfo |
	sed 's/.*: //'), $(dmesg | grep -o 'Nested Paging enabled' | head -n 1))"

passed=0
failed=0
wants=

ok() {
	echo "ok - $*"
	passed=$((passed + 1))
}
not_ok() {
	echo "FAIL - $*"
	failed=$((failed + 1))
}

# want KIND TEXT: the next check's KIND (stdout, stderr or output) holds TEXT.
# want count:N TEXT: the output has exactly N lines that are TEXT.
# want match:WHERE RE, absent:WHERE RE: a line of WHERE (stdout, stderr, output or a file's
# path) matches the extended regular expression RE, or none does.
# want lines:WHERE RE: WHERE has lines, and each matches RE but those that start with "hv: ".
want() {
	wants="$wants$1 $2
"
}

# A fresh 1 MiB zero-filled disk at /tmp/disk/disk.img, for a case whose options name one.
fresh_disk() {
	rm -rf /tmp/disk
	mkdir /tmp/disk
	head -c 1048576 /dev/zero >/tmp/disk/disk.img
}

# check NAME WANT_STATUS COMMAND...: runs COMMAND with a time limit, checks its status and
# what want() asked for, prints the result line (with what was wrong and the output, on a
# failure) and forgets the wants.
check() {
	local name="$1" want_status="$2" status problems='' line kind text n start elapsed where
	shift 2
	start=$(date +%s)
	timeout "$CASE_TIMEOUT" "$@" >$T.stdout 2>$T.stderr
	status=$?
	cat $T.stdout $T.stderr >$T.output
	elapsed=$(($(date +%s) - start))
	if [ "$status" != "$want_status" ]; then
		problems="exit status $status, expected $want_status"
		[ "$elapsed" -lt "$CASE_TIMEOUT" ] || problems="$problems (timed out after $elapsed s)"
		problems="$problems
"
	fi
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		kind=${line%% *}
		text=${line#* }
		case $kind in
		count:*)
			n=$(grep -cxF -- "$text" $T.output)
			[ "$n" = "${kind#count:}" ] ||
				problems="${problems}output has $n lines '$text', expected ${kind#count:}
"
			;;
		match:* | absent:* | lines:*)
			where=${kind#*:}
			case $where in /*) ;; *) where=$T.$where ;; esac
			case $kind in
			match:*)
				grep -qE -- "$text" "$where" 2>/dev/null ||
					problems="$problems${kind#*:}: no line matches: $text
"
				;;
			absent:*)
				! grep -qE -- "$text" "$where" 2>/dev/null ||
					problems="$problems${kind#*:}: a line matches: $text
"
				;;
			*)
				if ! grep -qE -- "$text" "$where" 2>/dev/null ||
					grep -vE -- "$text" "$where" | grep -qv '^hv: '; then
					problems="$problems${kind#*:}: not all lines match: $text
$(grep -vE -- "$text" "$where" 2>/dev/null | grep -v '^hv: ' | head -n 3)
"
				fi
				;;
			esac
			;;
		*)
			grep -qF -- "$text" "$T.$kind" || problems="$problems$kind lacks: $text
"
			;;
		esac
	done <<EOF
$wants
EOF
	wants=
	if [ -z "$problems" ]; then
		ok "$name (exit $status)"
	else
		not_ok "$name"
		printf '%s' "$problems" | sed 's/^/    /'
		head -n 20 $T.stdout | sed 's/^/    stdout: /'
		head -n 20 $T.stderr | sed 's/^/    stderr: /'
	fi
}

# clock_sane NAME: the last check's stdout has hello's "monotonic time since boot: X ms" with
# X under 10 s: the guest's clock starts at its boot, whatever the host's TSC reads.
clock_sane() {
	local ms
	ms=$(sed -n 's/^monotonic time since boot: \([0-9]*\)\..*/\1/p' $T.stdout)
	if [ -n "$ms" ] && [ "$ms" -lt 10000 ]; then
		ok "$1 ($ms ms)"
	else
		not_ok "$1"
		echo "    the guest says: $(grep 'monotonic time since boot' $T.stdout)"
	fi
}

cd /
# A syntax error in a sourced file would end init, and with it the VM, without a word.
if ! out=$(sh -n /cases.sh 2>&1); then
	echo "kvm-nested: /cases.sh does not parse: $out"
	halt_vm
fi
began=$(date +%s)
. /cases.sh
printf '\n%d passed, %d failed\n' "$passed" "$failed"
echo "kvm-nested: the cases took $(($(date +%s) - began)) s of the VM's time"
halt_vm
