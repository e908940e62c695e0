#!/bin/sh
# SPDX-License-Identifier: MIT
# The hotplug script of mk/xen-domu.sh's dom0, for its disk and its network interface (the
# xl configuration names it with script=). libxl runs it once a device's backend driver is
# waiting (blkback, netback), as Debian's /etc/xen/scripts/block and vif-bridge would be
# run; those are bash with many tools, and this dom0 has busybox. Runs under busybox sh.
#
# Usage (libxl's): xen-domu-hotplug add|remove            a disk (XENBUS_TYPE=vbd)
#                  xen-domu-hotplug online|offline ...    a vif (XENBUS_TYPE=vif, vif=NAME)
# XENBUS_PATH is the device's backend directory in xenstore. Exits 0, or 1 after writing
# hotplug-error there, which libxl reports.

PATH=/bin:/usr/bin
path=${XENBUS_PATH:?}

# failed WHY: tell libxl, and the console, why the device cannot be connected.
failed() {
	xenstore-write "$path/hotplug-error" "$*" "$path/hotplug-status" error
	echo "xen-domu-hotplug: $XENBUS_TYPE $path: $*" >&2
	exit 1
}

case $XENBUS_TYPE:$1 in
vbd:add)
	# blkback opens the block device named by major:minor, in hex.
	dev=$(xenstore-read "$path/params") || failed "no params"
	[ -b "$dev" ] || failed "$dev is not a block device"
	xenstore-write "$path/physical-device" "$(stat -L -c %t:%T "$dev")" \
		"$path/physical-device-path" "$dev" || failed "cannot write physical-device"
	;;
vif:online)
	# netback made the interface $vif; it joins the bridge the configuration names.
	ifname=${vif:-} # libxl's name for it
	[ -n "$ifname" ] || failed "libxl named no interface (vif=)"
	bridge=$(xenstore-read "$path/bridge") || failed "no bridge"
	ip link set dev "$ifname" master "$bridge" || failed "cannot add $ifname to $bridge"
	ip link set dev "$ifname" up || failed "cannot bring $ifname up"
	;;
vbd:remove | vif:offline)
	exit 0 # the backend has let go; nothing here to undo
	;;
*)
	failed "unexpected call: type $XENBUS_TYPE, command $1"
	;;
esac
xenstore-write "$path/hotplug-status" connected
