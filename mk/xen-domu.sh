#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots an appliance image as a Xen domU, PV or PVH, the way a Xen host runs one: Xen 4.17
# inside QEMU (TCG, no /dev/kvm needed), a Debian Linux kernel as dom0 with Debian's Xen
# tools in its initramfs, and xl creating the domain. Prints the domain's console and how it
# ended. (mk/xen-run.sh instead boots the image itself as dom0, with no Linux and no xl.)
#
# Usage: mk/xen-domu.sh [--pv|--pvh] [--vif] [--disk FILE] IMAGE [ARGS...]   (default --pv;
#        run from the project root)
#   BUILD=dir             the build directory (default build)
#   QEMU=path             the emulator (default qemu-system-x86_64)
#   XEN_DOMU_TIMEOUT=S    seconds xl create -F may take, building the domain included; then
#                         the domain is destroyed (default 60)
#   XEN_DOMU_LOG=file     keep the machine's whole console there (Xen, dom0, the marker lines)
#   XEN_DOMU_DOM0_CMD=sh  a command dom0 runs (busybox sh) once the domain exists, such as
#                         "ping -c 3 10.80.0.2" with --vif; its output is shown at the end
#   --disk FILE           the domain gets FILE as its disk xvda (read-write; QEMU gives it to
#                         dom0 as a virtio disk, blkback serves it to the domain)
#   --vif                 the domain gets a network interface, on a bridge in dom0 where
#                         dom0 is 10.80.0.1 and serves DHCP (leases 10.80.0.10-20)
#
# What it fetches, pinned and cached by mk/debs.sh: Xen (the set xen, as mk/xen-run.sh) and
# the set xen-dom0: the kernel, busybox-static, Xen's tools and the libraries they load that
# Debian 12 does not always have (glibc, zlib and the like come from this host, which must
# be Debian 12 too). The packed dom0 (BUILD/xen-dom0/dom0.cpio.gz, its /init
# tests/xen-domu-init.sh) is built once; each run appends a small archive with the image and
# its xl configuration.
#
# Output: the domain's console on stdout (xenconsoled's log of it, so only once the domain
# has ended), progress and how it ended on stderr. Exit status: 0 the domain powered off
# (its status was 0); 83 it crashed (a non-zero status, a panic or a fault: Xen does not
# carry the number); 84 it rebooted, suspended, was stopped by its watchdog, or was still
# running after XEN_DOMU_TIMEOUT s; 64 bad usage; 65 Xen's domain builder rejected the image;
# 66 image missing; 69 the rig failed (the step is named, with what dom0 and Xen said).
set -uo pipefail

QEMU=${QEMU:-qemu-system-x86_64}
BUILD=${BUILD:-build}
DOMU_TIMEOUT=${XEN_DOMU_TIMEOUT:-60}
DOMU_MEM_MB=64       # the domain's memory
DOM0_MEM=384M        # dom0's memory (Xen's dom0_mem): the tools and the initramfs live there
MACHINE_MEM=1G       # QEMU's: Xen, dom0 and the domain
BOOT_TIMEOUT=240     # seconds for QEMU beyond the domain's own: Xen and dom0 boot, the tools
die() { echo "xen-domu: ${*:2}" >&2; exit "$1"; }

# The xen-dom0 set, NAME=PACKAGE for mk/debs.sh (the order is part of the pins: keep it).
# The libraries are what xl, oxenstored, xenconsoled and xenstore-* load beyond Debian's base
# (ldd says which; initramfs_program fails naming any that is missing).
DOM0_PACKAGES=(
	kernel=@kernel busybox=busybox-static
	xen-utils=xen-utils-4.17 xen-utils-common=xen-utils-common xenstore-utils=xenstore-utils
	libxenmisc=libxenmisc4.17 libxencall=libxencall1 libxenevtchn=libxenevtchn1
	libxenforeignmemory=libxenforeignmemory1 libxengnttab=libxengnttab1
	libxenstore=libxenstore4 libxentoollog=libxentoollog1 libxentoolcore=libxentoolcore1
	libxendevicemodel=libxendevicemodel1 libxenhypfs=libxenhypfs1 libyajl=libyajl2
)
# The drivers the tools open, by the kernel option that builds each, for the ones the Debian
# kernel builds as modules: /dev/xen/evtchn, gntdev, gntalloc, privcmd, and xenfs.
DOM0_DRIVERS=(
	CONFIG_XEN_DEV_EVTCHN=xen-evtchn CONFIG_XEN_GNTDEV=xen-gntdev
	CONFIG_XEN_GRANT_DEV_ALLOC=xen-gntalloc CONFIG_XEN_PRIVCMD=xen-privcmd CONFIG_XENFS=xenfs
)
# What dom0 loads for --disk (QEMU's virtio disk, blkback) and --vif (a bridge, netback).
DISK_DRIVERS=(CONFIG_VIRTIO_PCI=virtio_pci CONFIG_VIRTIO_BLK=virtio_blk
	CONFIG_XEN_BLKDEV_BACKEND=xen-blkback)
VIF_DRIVERS=(CONFIG_BRIDGE=bridge CONFIG_XEN_NETDEV_BACKEND=xen-netback)
HOTPLUG=/etc/xen/scripts/xen-domu-hotplug # tests/xen-domu-hotplug.sh, for the disk and the vif
XEN_BIN=/usr/lib/xen-4.17/bin # Debian's home for one Xen version's tools

mode=pv
disk=
vif=0
while (($# > 0)); do
	case $1 in
	--pv) mode=pv ;;
	--pvh) mode=pvh ;;
	--vif) vif=1 ;;
	--disk)
		(($# >= 2)) || die 64 "--disk needs a file"
		disk=$2
		shift
		;;
	--) shift; break ;;
	-*) die 64 "unknown option $1" ;;
	*) break ;;
	esac
	shift
done
(($# >= 1)) || die 64 "usage: mk/xen-domu.sh [--pv|--pvh] [--vif] [--disk FILE] IMAGE [ARGS...]"
image=$1
shift
[[ -f $image && -r $image ]] || die 66 "$image: no such readable file"
[[ -z $disk || (-f $disk && -r $disk && -w $disk) ]] || die 66 "$disk: no such writable file"
command -v "$QEMU" >/dev/null || die 69 "$QEMU not found; install it with: make deps"

# The domain's command line: argv[0] as BOOT_IMAGE=, then each argument, quoted as
# mk/xen-run.sh does (the guest splits at blanks; a double quote groups).
quote() {
	[[ $1 != *'"'* ]] || die 64 "an argument with a double quote cannot reach the guest: $1"
	if [[ -z $1 || $1 == *[[:space:]]* ]]; then printf '"%s"' "$1"; else printf '%s' "$1"; fi
}
cmdline="$(quote "BOOT_IMAGE=$image")" || exit
for arg in "$@"; do
	cmdline+=" $(quote "$arg")" || exit
done
((${#cmdline} <= 1000)) || die 64 "arguments too long: Xen keeps 1024 bytes of a command line"
# As an xl string: in double quotes, a backslash or double quote escaped, a newline as \n.
xl_string() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "${s//$'\n'/\\n}"
}

BUILD=$(cd "$BUILD" && pwd) || die 69 "no build directory $BUILD"
D=$BUILD/xen-dom0

# --- Xen, and dom0's packages -----------------------------------------------------------
# Xen itself as mk/xen-run.sh fetches it (the same set, so either script's fetch serves both).
xen=$BUILD/xen/xen.elf
if [[ ! -f $xen ]]; then
	mk/debs.sh "$BUILD" xen xen=xen-hypervisor-4.17-amd64 >&2 || die 69 "could not fetch Xen"
	gunzip -c "$BUILD/xen/xen/boot/xen-4.17-amd64.gz" >"$xen.part" && mv "$xen.part" "$xen" ||
		die 69 "could not unpack Xen's boot/xen-4.17-amd64.gz"
fi
# dom0's packages: fetched and unpacked once, and checked against their pins again whenever
# the initramfs they go into is rebuilt.
base=$D/dom0.cpio.gz
base_stale() {
	[[ ! -f $base || $base -ot tests/xen-domu-init.sh || $base -ot tests/xen-domu-hotplug.sh ||
		$base -ot mk/xen-domu.sh || $base -ot mk/initramfs.sh || $base -ot $D/unpacked.stamp ]]
}
if [[ ! -f $D/unpacked.stamp ]] || base_stale; then
	mk/debs.sh "$BUILD" xen-dom0 "${DOM0_PACKAGES[@]}" >&2 ||
		die 69 "could not fetch dom0's packages"
fi
mapfile -t kernels < <(find "$D/kernel/boot" -name 'vmlinuz-*')
((${#kernels[@]} == 1)) || die 69 "expected one vmlinuz in $D/kernel/boot, found ${#kernels[@]}"
kernel=${kernels[0]}
BUSYBOX=$D/busybox/bin/busybox

# --- dom0's initramfs, built once ---------------------------------------------------------
source mk/initramfs.sh

build_dom0() {
	local R=$D/root moddir libdirs=() f
	moddir=$(echo "$D"/kernel/lib/modules/*)
	rm -rf "$R"
	mkdir -p "$R"/{bin,dev,proc,sys,tmp,run,var,etc/xen}
	cp "$BUSYBOX" "$R/bin/busybox" && ln -s busybox "$R/bin/sh" || return 1
	cp tests/xen-domu-init.sh "$R/init" && chmod 755 "$R/init" || return 1

	add_drivers order "${DOM0_DRIVERS[@]}" && add_drivers order-disk "${DISK_DRIVERS[@]}" &&
		add_drivers order-vif "${VIF_DRIVERS[@]}" || return 1

	# The tools at Debian's paths, with their libraries: the Xen ones from the set, the
	# rest from this host.
	for f in "$D"/*/usr/lib/x86_64-linux-gnu; do libdirs+=("$f"); done
	for f in xl oxenstored xenconsoled xen-init-dom0; do
		initramfs_program "$R" "$D/xen-utils$XEN_BIN/$f" "$XEN_BIN/$f" "${libdirs[@]}" || return 1
	done
	# xenstore-read, -ls and the rest are one program that looks at its name.
	initramfs_program "$R" "$D/xenstore-utils/usr/bin/xenstore" /usr/bin/xenstore "${libdirs[@]}" ||
		return 1
	for f in read write ls list rm exists watch chmod; do ln -s xenstore "$R/usr/bin/xenstore-$f"; done
	# glibc loads libgcc_s when a thread is cancelled (xl does that): no ldd lists it.
	cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$R/usr/lib/x86_64-linux-gnu/" || return 1
	# Debian's settings: oxenstored's, and xl's (all defaults, but xl warns without it).
	cp "$D"/xen-utils-common/etc/xen/{oxenstored.conf,xl.conf} "$R/etc/xen/" || return 1
	mkdir -p "$R$(dirname "$HOTPLUG")"
	cp tests/xen-domu-hotplug.sh "$R$HOTPLUG" && chmod 755 "$R$HOTPLUG" || return 1

	initramfs_pack "$R" "$BUSYBOX" "$base"
}

# add_drivers LIST OPTION=MODULE...: the modules for the kernel options its configuration
# builds as modules, listed in LIST for the init (uses build_dom0's R and moddir).
add_drivers() {
	local list=$1 config spec opt mods=()
	shift
	config=$(echo "$D"/kernel/boot/config-*)
	for spec; do
		opt=${spec%%=*}
		case $(sed -n "s/^$opt=//p" "$config") in
		m) mods+=("${spec#*=}") ;;
		y) ;; # built in
		*) echo "xen-domu: $config does not build $opt, which dom0 needs" >&2; return 1 ;;
		esac
	done
	initramfs_modules "$R" "$moddir" "$list" ${mods[@]+"${mods[@]}"}
}

# Rebuilt when what goes in changed; one builder at a time (runs may share the build).
exec 8>"$D/dom0.lock"
flock 8
if base_stale; then
	build_dom0 || die 69 "could not build dom0's initramfs (step: initramfs)"
	echo "xen-domu: built $base ($(($(stat -c %s "$base") / 1024)) KiB)" >&2
fi
flock -u 8

# --- this run's archive: the image and its xl configuration ---------------------------------
run=$(mktemp -d)
log=${XEN_DOMU_LOG:-$run/console.log}
trap 'rm -rf "$run"' EXIT
mkdir -p "$run/root/appliance"
cp "$image" "$run/root/appliance/" || die 69 "could not copy $image"

cat >"$run/root/appliance/domain.cfg" <<EOF
# Written by mk/xen-domu.sh for $image
name = "appliance"
type = "$mode"
kernel = $(xl_string "/appliance/$(basename "$image")")
memory = $DOMU_MEM_MB
extra = $(xl_string "$cmdline")
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
devices=
if [[ -n $disk ]]; then
	devices+=" disk"
	echo "disk = [ 'format=raw, vdev=xvda, access=rw, backendtype=phy, script=$HOTPLUG," \
		"target=/dev/vda' ]" >>"$run/root/appliance/domain.cfg"
fi
if ((vif)); then
	devices+=" vif"
	echo "vif = [ 'mac=00:16:3e:00:00:01, bridge=xenbr0, script=$HOTPLUG' ]" \
		>>"$run/root/appliance/domain.cfg"
fi
printf 'DOMU_TIMEOUT=%s\nDEVICES="%s"\n' "$DOMU_TIMEOUT" "${devices# }" >"$run/root/appliance/settings"
[[ -z ${XEN_DOMU_DOM0_CMD:-} ]] || echo "$XEN_DOMU_DOM0_CMD" >"$run/root/appliance/dom0-cmd"
initramfs_pack "$run/root" "$BUSYBOX" "$run/appliance.cpio.gz" || die 69 "could not pack the image"
# Linux unpacks archives laid end to end, the later adding to the earlier.
cat "$base" "$run/appliance.cpio.gz" >"$run/initrd.gz" || die 69 "could not write the initramfs"

# --- the machine ----------------------------------------------------------------------------
# Xen's multiboot modules: dom0's kernel with its command line, then its initramfs. A comma
# in a module's string is doubled, or QEMU would take it for the next module.
comma_safe() { local s="$*"; printf '%s' "${s//,/,,}"; }
# dom0's console is Xen's (hvc0), quiet but for the init's lines; a panic reboots, ending QEMU.
dom0_cmdline="console=hvc0 earlyprintk=xen quiet panic=-1"
# Xen's console on COM1 (this process's output, dom0's console among it), everything it says
# about guests included, and dom0 small enough to leave room for the domain.
xen_cmdline="console=com1 loglvl=all guest_loglvl=all dom0_mem=$DOM0_MEM,max:$DOM0_MEM"
xen_cmdline+=" dom0_max_vcpus=1"
opts=(
	-M q35 -accel tcg -cpu max -m "$MACHINE_MEM" -smp 1
	-nodefaults -no-user-config -nographic -serial stdio
	# dom0's poweroff ends Xen; should Xen reboot instead (dom0 crashed), QEMU ends too.
	-no-reboot
	-kernel "$xen"
	-initrd "$(comma_safe "$kernel $dom0_cmdline"),$(comma_safe "$run/initrd.gz")"
	-append "$xen_cmdline"
)
# The disk reaches dom0 as a virtio disk, its /dev/vda: the domain's writes land in the file.
[[ -z $disk ]] || opts+=(-drive "file=$(comma_safe "$disk"),format=raw,if=none,id=disk"
	-device virtio-blk-pci,drive=disk)

limit=$((BOOT_TIMEOUT + DOMU_TIMEOUT))
echo "xen-domu: booting Xen, Linux $(basename "$kernel" | sed 's/^vmlinuz-//') as dom0, and" \
	"$(basename "$image") as a $mode domU (at most $limit s)" >&2
start=$SECONDS
# Carriage returns dropped; the whole console to the log; the init's progress lines through.
timeout "$limit" "$QEMU" "${opts[@]}" </dev/null 2>&1 |
	tr -d '\r' | tee "$log" | grep --line-buffered '^xen-domu: ' >&2
qemu_status=${PIPESTATUS[0]}
echo "xen-domu: the machine ran $((SECONDS - start)) s" >&2

# How it went, from the init's marker lines.
sed -n 's/^xen-domu:console: //p' "$log"
ended=$(sed -n 's/^xen-domu: ended: //p' "$log" | tail -n 1)
if [[ -z $ended ]]; then
	# A failure the init noticed was shown as it came, with what it saw.
	grep -q '^xen-domu: failed: ' "$log" && die 69 "the rig failed (the step and details are above)"
	tail -n 40 "$log" | sed 's/^/    console: /' >&2
	((qemu_status != 124)) || die 69 "the machine did not finish within $limit s"
	die 69 "the machine ended before dom0's init said how the domain ended (QEMU's status" \
		"$qemu_status): Xen or dom0 failed to boot, or crashed (the console's tail is above)"
fi
sed -n 's/^xen-domu:xl: /    xl: /p; s/^xen-domu:dom0: /    dom0: /p' "$log" >&2
case $ended in
poweroff) exit 0 ;;
crash) die 83 "the domain crashed (a non-zero exit status, a panic or a fault)" ;;
timeout) die 84 "the domain was still running after $DOMU_TIMEOUT s, and was destroyed" ;;
rejected) die 65 "Xen's domain builder rejected $image (xl's lines above say why)" ;;
*) die 84 "the domain ended by $ended" ;;
esac
