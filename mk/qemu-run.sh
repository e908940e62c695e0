#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots an appliance image on stock QEMU -M microvm through its PVH entry, and exits with the
# guest's own status, as build/hv would. Used by make run-qemu and tests/integration/qemu.sh.
#
# Usage: mk/qemu-run.sh IMAGE [ARGS...]
#        mk/qemu-run.sh --which-accel     print the accelerator a run would use, and exit
#   QEMU=path          the emulator (default qemu-system-x86_64)
#   QEMU_ACCEL=tcg|kvm the accelerator. By default kvm (with -cpu host) where /dev/kvm is
#                      usable and the CPU shows VMX or SVM, else tcg (with -cpu max). A
#                      software-assisted KVM, as on the machines these tests were written
#                      on, shows neither: it refuses -cpu max and stops at the guest's first
#                      SSE instruction in ring 0 under other models. TCG always works
#   QEMU_MEM=SIZE      guest RAM (default 128M)
#   QEMU_OPTS="..."    more QEMU options, split at spaces (devices, say)
#   PVH_DEBUG=1        the platform says what it found at boot (clocks, IO APICs, devices)
#
# Exit status: the guest's status for 0-127; a guest status s of 128-255 arrives as s - 128
# (isa-debug-exit keeps 7 bits: abort's 134 as 6, panic's 255 as 127; platforms/kvm/pvh_exit.c).
# The platform's own: 80 a CPU exception, 82 blocked forever with nothing to wake it. This
# script's: 64 bad usage, 66 image missing, 69 QEMU missing, failing to start or crashing, 82
# also when the guest reset or stopped without the exit device (a triple fault under
# -no-reboot, or QEMU told to quit).
set -uo pipefail

QEMU=${QEMU:-qemu-system-x86_64}
die() { echo "qemu-run: ${*:2}" >&2; exit "$1"; }

# Hardware-assisted KVM where the host has it; TCG everywhere else.
accel=${QEMU_ACCEL:-}
if [[ -z $accel ]]; then
	accel=tcg
	if [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then accel=kvm; fi
fi
if [[ ${1:-} == --which-accel ]]; then
	echo "$accel"
	exit 0
fi

(($# >= 1)) || die 64 "usage: mk/qemu-run.sh IMAGE [ARGS...]"
image=$1
shift
[[ -f $image && -r $image ]] || die 66 "$image: no such readable file"
command -v "$QEMU" >/dev/null || die 69 "$QEMU not found; install it with: make deps"

# The kernel command line: argv[0] as BOOT_IMAGE= (the word GRUB puts first), then each
# argument, in double quotes where it is empty or has blanks (the guest splits as Linux does:
# quotes group and are dropped, so an argument cannot itself hold a double quote).
quote() {
	[[ $1 != *'"'* ]] || die 64 "an argument with a double quote cannot pass -append: $1"
	if [[ -z $1 || $1 == *[[:space:]]* ]]; then printf '"%s"' "$1"; else printf '%s' "$1"; fi
}
append=$(quote "BOOT_IMAGE=$image") || exit
for arg in "$@"; do
	append+=" $(quote "$arg")" || exit
done
[[ ${PVH_DEBUG:-0} == 0 ]] || append+=" pvh.debug"
# QEMU's PVH option ROM (pc-bios/optionrom/pvh_main.c) copies the command line into a 4 KiB
# buffer, after microvm has appended up to 8 virtio_mmio.device= words of 38 bytes.
((${#append} <= 3700)) || die 64 "arguments too long: at most 3700 bytes reach the guest intact"

read -r -a extra <<<"${QEMU_OPTS:-}"
opts=(
	# The minimal machine: no PCI, virtio-mmio slots, qboot as firmware. acpi=off makes QEMU
	# list each attached virtio-mmio device on the command line (virtio_mmio.device=...).
	-M microvm,acpi=off
	# The guest runs in ring 0 on QEMU: TCG emulates it anywhere; KVM only where the CPU
	# virtualizes (see QEMU_ACCEL above).
	-accel "$accel"
	# TCG: every CPU feature it has (x2APIC among them; no TSC-deadline timer). KVM: the host's.
	-cpu "$([[ $accel == kvm ]] && echo host || echo max)"
	-m "${QEMU_MEM:-128M}"
	# Only the devices named here: no network card, no config files.
	-nodefaults -no-user-config
	# No display; the guest's console (COM1) is this process's stdin and stdout.
	-nographic -serial stdio
	# A guest reset (a triple fault) ends QEMU instead of booting the image again.
	-no-reboot
	# The guest ends QEMU by writing its status to port 0xf4: exit code (status << 1) | 1.
	-device isa-debug-exit,iobase=0xf4,iosize=4
	# Virtio 1.x devices, not legacy ones: libos's driver takes only those.
	-global virtio-mmio.force-legacy=off
	# The ELF image, booted through its PVH note by QEMU's pvh.bin option ROM.
	-kernel "$image" -append "$append"
	"${extra[@]}"
)

# QEMU's own messages go to stderr as they come, and to a copy to tell its failures apart.
# QEMU runs as a child that keeps this terminal (stdin included, for the guest's console); a
# TERM, INT or HUP sent to this script (by timeout, say) is passed on to it, and its exit
# code is still collected: wait returns early when a trapped signal arrives.
errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT
exec {err}> >(tee "$errlog" >&2)
tee_pid=$!
"$QEMU" "${opts[@]}" 0<&0 2>&"$err" &
qemu=$!
trap 'kill -TERM "$qemu" 2>/dev/null' TERM INT HUP
while :; do
	wait "$qemu"
	code=$?
	kill -0 "$qemu" 2>/dev/null || break # gone (a zombie still answers, and is reaped next)
done
exec {err}>&- # tee sees the end of QEMU's messages, and has written them all once it exits
wait "$tee_pid"

# Exit code 1 is both "guest status 0" and "QEMU could not start": QEMU says which.
if ((code == 1)) && grep -v ': warning: ' "$errlog" | grep -q "^${QEMU##*/}: "; then
	die 69 "QEMU failed to start (its message is above)"
fi
if ((code == 0)); then
	die 82 "the guest reset or stopped without isa-debug-exit (a triple fault, or QEMU was" \
		"told to quit)"
fi
if ((code % 2 == 0)); then
	die 69 "QEMU ended with exit code $code, which no guest status maps to"
fi
exit $((code >> 1))
