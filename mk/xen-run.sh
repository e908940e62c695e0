#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots an appliance image as the first domain (dom0) of a real Xen hypervisor inside QEMU
# (TCG: it emulates SVM with nested paging, so no /dev/kvm is needed), as a PV guest or a PVH
# guest, and exits with the guest's own status, as build/hv would. Used by make run-xen and
# tests/integration/xen.sh. Xen is Debian's xen-hypervisor-4.17-amd64, fetched, pinned and
# unpacked into BUILD/xen by mk/debs.sh on the first run (nothing is installed).
#
# Usage: mk/xen-run.sh [--pv|--pvh] IMAGE [ARGS...]      (default --pv)
#   BUILD=dir          the build directory (default build)
#   QEMU=path          the emulator (default qemu-system-x86_64)
#   XEN_LOG=file       write Xen's own console lines, "(XEN) ...", there (default: dropped)
#   PVH_DEBUG=1        the platform says what it found at boot (memory, clock, ports)
#
# The guest's console is dom0's console_io: Xen prints it on its serial console, which is this
# process's stdout, between Xen's own lines; those, and the firmware's banner before them,
# are taken out. Exit status: as mk/qemu-run.sh (the guest's 0-127; 128-255 as s - 128; 80 a
# CPU exception), and 82 when QEMU ended without the exit device: Xen rebooted after dom0
# crashed or shut down (its log says which). 64 bad usage, 66 image missing, 69 QEMU or Xen
# missing or failing.
set -uo pipefail

QEMU=${QEMU:-qemu-system-x86_64}
BUILD=${BUILD:-build}
die() { echo "xen-run: ${*:2}" >&2; exit "$1"; }

mode=pv
case ${1:-} in
--pv) mode=pv; shift ;;
--pvh) mode=pvh; shift ;;
esac
(($# >= 1)) || die 64 "usage: mk/xen-run.sh [--pv|--pvh] IMAGE [ARGS...]"
image=$1
shift
[[ -f $image && -r $image ]] || die 66 "$image: no such readable file"
command -v "$QEMU" >/dev/null || die 69 "$QEMU not found; install it with: make deps"

# Xen itself: the multiboot ELF inside the package's xen.gz.
xen=$BUILD/xen/xen.elf
if [[ ! -f $xen ]]; then
	mk/debs.sh "$BUILD" xen xen=xen-hypervisor-4.17-amd64 >&2 || die 69 "could not fetch Xen"
	gz=$(echo "$BUILD"/xen/xen/boot/xen-4.17-amd64.gz)
	[[ -f $gz ]] || die 69 "the package has no boot/xen-4.17-amd64.gz"
	gunzip -c "$gz" >"$xen.part" && mv "$xen.part" "$xen" || die 69 "could not unpack $gz"
fi

# The module's command line: the image (Xen drops this first word), then argv[0] as
# BOOT_IMAGE= and each argument, quoted as mk/qemu-run.sh does; a comma is doubled, or QEMU
# would take it for the start of another module.
quote() {
	[[ $1 != *'"'* ]] || die 64 "an argument with a double quote cannot reach the guest: $1"
	if [[ -z $1 || $1 == *[[:space:]]* ]]; then printf '"%s"' "$1"; else printf '%s' "$1"; fi
}
module="$image $(quote "BOOT_IMAGE=$image")" || exit
for arg in "$@"; do
	module+=" $(quote "$arg")" || exit
done
[[ ${PVH_DEBUG:-0} == 0 ]] || module+=" pvh.debug"
((${#module} <= 1000)) || die 64 "arguments too long: Xen keeps 1024 bytes of dom0's command line"
module=${module//,/,,}

# Xen's command line: its console on COM1 (this process's stdout), dom0 small (so its build
# and page tables are quick), and, for a PVH dom0, the IOMMU Xen insists on for one.
xen_args="console=com1 dom0_mem=64M,max:64M"
opts=(
	-M q35 -accel tcg -cpu max -m 512M
	-nodefaults -no-user-config -nographic -serial stdio
	# Xen reboots after dom0 ends without the exit device: QEMU then exits with 0.
	-no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=4
	-kernel "$xen"
	-initrd "$module"
)
if [[ $mode == pvh ]]; then
	xen_args+=" dom0=pvh iommu=1"
	opts+=(-device amd-iommu)
fi
opts+=(-append "$xen_args")

# Everything up to Xen's first line is the firmware's; then Xen's lines start with "(XEN)".
filter() {
	local seen=0 line
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		if [[ $line == *'(XEN)'* ]]; then
			seen=1
			printf '%s\n' "(XEN)${line#*(XEN)}" >>"$xenlog"
			continue
		fi
		((seen)) && printf '%s\n' "$line"
	done
}

errlog=$(mktemp)
xenlog=${XEN_LOG:-$(mktemp)}
: >"$xenlog"
trap 'rm -f "$errlog"; [[ -n ${XEN_LOG:-} ]] || rm -f "$xenlog"' EXIT
"$QEMU" "${opts[@]}" </dev/null 2>"$errlog" | filter
code=${PIPESTATUS[0]}
if ((code == 1)) && grep -q "^${QEMU##*/}: " "$errlog"; then
	cat "$errlog" >&2
	die 69 "QEMU failed to start (its message is above)"
fi
if ((code == 0)); then
	# Xen says why: dom0 crashed or shut down, or it could not be built.
	grep -E 'Dom0 (crashed|shutdown)|Could not construct|Panic' "$xenlog" | head -n 3 >&2
	die 82 "QEMU ended without the exit device: Xen rebooted after dom0 ended"
fi
((code % 2 == 1)) || die 69 "QEMU ended with exit code $code, which no guest status maps to"
exit $((code >> 1))
