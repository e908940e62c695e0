#!/bin/sh
# SPDX-License-Identifier: MIT
# The /init of mk/xen-domu.sh's dom0: a Debian kernel as Xen's first domain under QEMU TCG,
# with Debian's Xen 4.17 tools. It brings the toolstack up as Debian's /etc/init.d/xen does
# (modules, xenfs, xenstored, xen-init-dom0, xenconsoled), creates the domain that
# /appliance/domain.cfg describes with xl create -F (which returns when the domain ends),
# prints the domain's console and how it ended, and powers the machine off. Runs under
# busybox sh (ash): no bash features.
#
# Every line for mk/xen-domu.sh to read starts with "xen-domu:":
#   xen-domu: STEP...             progress, one line a step
#   xen-domu: failed: STEP: WHY   the rig failed (what it saw follows as "xen-domu:   " lines)
#   xen-domu:console: LINE        the domain's console, from xenconsoled's log
#   xen-domu:xl: LINE             what xl create -F said
#   xen-domu:dom0: LINE           what /appliance/dom0-cmd said (below)
#   xen-domu: ended: HOW          poweroff, crash, reboot, suspend, watchdog, soft_reset,
#                                 timeout (still running after DOMU_TIMEOUT s: destroyed), or
#                                 rejected (Xen's domain builder refused the image)
#
# /appliance/settings (sh) sets DOMU_TIMEOUT, the seconds the domain may run, and DEVICES,
# what the domain has besides its console: "disk" (dom0's /dev/vda, a virtio disk QEMU backs
# with the host's file, becomes the domain's xvda through blkback) and "vif" (an interface on
# the bridge xenbr0, where dom0 is $NET_PREFIX.1 and serves DHCP). The hotplug script
# /etc/xen/scripts/xen-domu-hotplug (tests/xen-domu-hotplug.sh) connects both.

XEN_BIN=/usr/lib/xen-4.17/bin # where Debian keeps the tools of one Xen version
PATH=/bin:/usr/bin:/usr/sbin:$XEN_BIN
export PATH
CONSOLE_LOG=/var/log/xen/console/guest-appliance.log # xenconsoled names it by the domain's name
XL_OUT=/tmp/xl.out
NET_PREFIX=10.80.0 # the vif's /24: dom0 is .1, DHCP leases from .10 to .20

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts # xenconsoled gives each domain's console a pty
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo # the line before may lack its newline: ours start on a line of their own

say() { echo "xen-domu: $*"; }
# mark PREFIX [FILE]: every line of FILE (or stdin) after PREFIX, each ended with a newline
# even if the file's last is not, so the next marker line starts a line of its own.
mark() { awk -v p="$1" '{ print p $0 }' ${2:+"$2"}; }
# Every line of stdin, marked as the details of a failure.
detail() { mark 'xen-domu:   '; }

# Ends the machine: dom0 powered off, Xen follows, and QEMU (-no-reboot) ends either way.
# init must never return.
halt_vm() {
	sync
	poweroff -f
	sleep 5
	reboot -f
	sleep 10
}

# fail STEP WHY: the rig failed; says what the kernel, Xen and the daemons said last, and
# stops.
fail() {
	say "failed: $1: $2"
	echo "the kernel's last lines:" | detail
	dmesg | tail -n 8 | detail
	if [ -e /proc/xen/privcmd ]; then
		# Xen's own lines since dom0 started (those before are on the console already).
		echo "Xen's lines since dom0 started (xl dmesg):" | detail
		timeout 10 xl dmesg 2>&1 | sed '1,/Freed .* init memory/d' | tail -n 30 | detail
	fi
	for f in /var/log/xen/*.log; do
		case $f in *-access.log) continue ;; esac # every xenstore request: too long
		[ -s "$f" ] || continue
		echo "$f:" | detail
		tail -n 10 "$f" | detail
	done
	halt_vm
}

[ -f /appliance/domain.cfg ] && . /appliance/settings ||
	fail setup "no /appliance/domain.cfg or /appliance/settings in the initramfs"

# load_modules LIST: the modules /lib/modules/LIST names, in its order, but those loaded.
load_modules() {
	for m in $(cat "/lib/modules/$1"); do
		grep -q "^${m%.ko} " /proc/modules && continue
		out=$(insmod "/lib/modules/$m" 2>&1) || fail modules "insmod $m: $out"
	done
}
# The drivers the tools open: /dev/xen/{evtchn,gntdev,gntalloc,privcmd} and xenfs, with
# their dependencies (mk/xen-domu.sh left out those the kernel has built in).
load_modules order

mount -t xenfs xenfs /proc/xen || fail xenfs "mount -t xenfs failed"
grep -q control_d /proc/xen/capabilities ||
	fail xenfs "/proc/xen/capabilities lacks control_d: this kernel is not Xen's dom0"
say "dom0 is up: Linux $(uname -r) on Xen $(cat /sys/hypervisor/version/major).$(cat \
	/sys/hypervisor/version/minor)$(cat /sys/hypervisor/version/extra), $(($(sed -n \
	's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024)) MiB"

# What the daemons and xl write: their pid files, xl's lock and per-domain state, the logs.
mkdir -p /var/lib/xen /var/lib/xenstored /var/log/xen/console /var/lock /run/xen /run/xenstored
ln -s /run /var/run

# The domain's devices' backends, and what they connect to.
for d in $DEVICES; do
	load_modules "order-$d"
	case $d in
	disk)
		n=0
		until [ -b /dev/vda ]; do # virtio-blk probes asynchronously
			n=$((n + 1))
			[ $n -le 50 ] || fail disk "no /dev/vda: QEMU's virtio disk did not appear"
			sleep 0.1
		done
		;;
	vif)
		out=$({ ip link add xenbr0 type bridge &&
			ip addr add $NET_PREFIX.1/24 dev xenbr0 && ip link set xenbr0 up; } 2>&1) ||
			fail vif "cannot set up the bridge xenbr0: $out"
		printf '%s\n' "interface xenbr0" "start $NET_PREFIX.10" "end $NET_PREFIX.20" \
			"option subnet 255.255.255.0" "option router $NET_PREFIX.1" \
			"lease_file /tmp/udhcpd.leases" >/etc/udhcpd.conf
		: >/tmp/udhcpd.leases
		udhcpd /etc/udhcpd.conf || fail vif "udhcpd did not start"
		;;
	esac
done
[ -z "$DEVICES" ] || say "devices ready: $DEVICES"

# xenstored: Debian's init script prefers the OCaml oxenstored (its settings in
# /etc/xen/oxenstored.conf) over the C xenstored, and points it at /run/xenstored. It forks
# into the background; it is up when xenstore answers.
XENSTORED_ROOTDIR=/run/xenstored oxenstored --pid-file /run/xen/xenstored.pid ||
	fail xenstored "oxenstored did not start"
n=0
until xenstore-read -s / >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -le 30 ] || fail xenstored "xenstore did not answer within 30 s"
	sleep 1
done
# dom0's own entries (its name, domid, UUID) that xl reads.
out=$(xen-init-dom0 2>&1) || fail xen-init-dom0 "$out"

# xenconsoled serves the domain's console ring; --log=guest writes what it reads to
# /var/log/xen/console/guest-NAME.log.
xenconsoled --log=guest --log-dir=/var/log/xen/console --pid-file=/run/xen/xenconsoled.pid ||
	fail xenconsoled "xenconsoled did not start"
say "xenstored and xenconsoled are up; creating the domain ($(sed -n \
	's/^type *= *"\(.*\)"/\1/p' /appliance/domain.cfg))"

# /appliance/dom0-cmd, if there: a command for dom0 to run once the domain exists (a ping of
# its vif, say). What it printed, and its status, are shown when the domain has ended.
DOM0_OUT=/tmp/dom0-cmd.out
if [ -f /appliance/dom0-cmd ]; then
	(
		until xl domid appliance >/dev/null 2>&1; do sleep 0.2; done
		sh /appliance/dom0-cmd >$DOM0_OUT 2>&1
		echo $? >$DOM0_OUT.status
	) &
fi

# xl create -F stays until the domain ends, and says how ("has shut down, reason code N").
# Its status is 0 whatever the reason; non-zero means the domain was never built.
timeout "$DOMU_TIMEOUT" xl create -F /appliance/domain.cfg >$XL_OUT 2>&1
xl_status=$?
reason=$(sed -n 's/.*has shut down, reason code \([0-9]*\).*/\1/p' $XL_OUT | head -n 1)
if [ -z "$reason" ] && xl domid appliance >/dev/null 2>&1; then
	how=timeout
	if [ -n "$DEVICES" ]; then # how far its devices got, for a domain waiting on one
		say "still running after $DOMU_TIMEOUT s; its devices' backends in xenstore:"
		xenstore-ls -f /local/domain/0/backend 2>&1 |
			grep -E '/(state|hotplug-status|hotplug-error|physical-device|online) =' | detail
	fi
	xl destroy appliance >>$XL_OUT 2>&1
elif grep -q 'xc_dom_parse_image failed' $XL_OUT; then
	how=rejected # not ELF, or without the notes Xen boots a PV or PVH kernel by
elif [ -z "$reason" ]; then
	detail <$XL_OUT
	fail "xl create" "the domain was not created or vanished (xl's status $xl_status)"
else
	# The SHUTDOWN_* codes of Xen's public/sched.h.
	case $reason in
	0) how=poweroff ;;
	1) how=reboot ;;
	2) how=suspend ;;
	3) how=crash ;;
	4) how=watchdog ;;
	5) how=soft_reset ;;
	*) how="reason code $reason" ;;
	esac
fi

# xenconsoled may not yet have read the last of the ring when the domain went.
sleep 1
n=$(awk 'END { print NR }' $CONSOLE_LOG 2>/dev/null || echo 0)
say "the domain's console ($n lines, from xenconsoled's log):"
[ ! -f $CONSOLE_LOG ] || mark 'xen-domu:console: ' $CONSOLE_LOG
say "xl create -F said (its status $xl_status):"
mark 'xen-domu:xl: ' $XL_OUT
if [ -f /appliance/dom0-cmd ]; then
	say "dom0's command said (its status $(cat $DOM0_OUT.status 2>/dev/null ||
		echo 'unknown: still running')):"
	[ ! -f $DOM0_OUT ] || mark 'xen-domu:dom0: ' $DOM0_OUT
fi
say "ended: $how"
halt_vm
