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
#   xen-domu: failed: STEP: WHY   the rig failed (what it saw follows as "xen-domu:  " lines)
#   xen-domu:console: LINE        the domain's console, from xenconsoled's log
#   xen-domu:xl: LINE             what xl create -F said
#   xen-domu: ended: HOW          poweroff, crash, reboot, suspend, watchdog, soft_reset, or
#                                 timeout (still running after DOMU_TIMEOUT s: destroyed)
#
# /appliance/settings (sh) sets DOMU_TIMEOUT, the seconds the domain may run.

XEN_BIN=/usr/lib/xen-4.17/bin # where Debian keeps the tools of one Xen version
PATH=/bin:/usr/bin:/usr/sbin:$XEN_BIN
export PATH
CONSOLE_LOG=/var/log/xen/console/guest-appliance.log # xenconsoled names it by the domain's name
XL_OUT=/tmp/xl.out

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo # the line before may lack its newline: ours start on a line of their own

say() { echo "xen-domu: $*"; }
# Every line of stdin, marked as the details of a failure.
detail() { sed 's/^/xen-domu:   /'; }

# Ends the machine: dom0 powered off, Xen follows, and QEMU (-no-reboot) ends either way.
# init must never return.
halt_vm() {
	sync
	poweroff -f
	sleep 5
	reboot -f
	sleep 10
}

# fail STEP WHY: the rig failed; says what the kernel and Xen said last, and stops.
fail() {
	say "failed: $1: $2"
	dmesg | tail -n 15 | detail
	if [ -e /proc/xen/privcmd ]; then
		echo "xl dmesg (Xen's log):" | detail
		timeout 10 xl dmesg 2>&1 | tail -n 30 | detail
	fi
	for f in /var/log/xen/*.log; do
		[ -s "$f" ] || continue
		echo "$f:" | detail
		tail -n 10 "$f" | detail
	done
	halt_vm
}

[ -f /appliance/domain.cfg ] && . /appliance/settings ||
	fail setup "no /appliance/domain.cfg or /appliance/settings in the initramfs"

# The drivers the tools open: /dev/xen/{evtchn,gntdev,gntalloc,privcmd} and xenfs, with
# their dependencies, in /lib/modules/order (mk/xen-domu.sh checked which are built in).
for m in $(cat /lib/modules/order); do
	out=$(insmod "/lib/modules/$m" 2>&1) || fail modules "insmod $m: $out"
done

mount -t xenfs xenfs /proc/xen || fail xenfs "mount -t xenfs failed"
grep -q control_d /proc/xen/capabilities ||
	fail xenfs "/proc/xen/capabilities lacks control_d: this kernel is not Xen's dom0"
say "dom0 is up: Linux $(uname -r) on Xen $(cat /sys/hypervisor/version/major).$(cat \
	/sys/hypervisor/version/minor)$(cat /sys/hypervisor/version/extra), $(($(sed -n \
	's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024)) MiB"

# What the daemons and xl write: their pid files, xl's lock and per-domain state, the logs.
mkdir -p /var/lib/xen /var/lib/xenstored /var/log/xen/console /var/lock /run/xen /run/xenstored
ln -s /run /var/run

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

# xl create -F stays until the domain ends, and says how ("has shut down, reason code N").
# Its status is 0 whatever the reason; non-zero means the domain was never built.
timeout "$DOMU_TIMEOUT" xl create -F /appliance/domain.cfg >$XL_OUT 2>&1
xl_status=$?
reason=$(sed -n 's/.*has shut down, reason code \([0-9]*\).*/\1/p' $XL_OUT | head -n 1)
if [ -z "$reason" ] && xl domid appliance >/dev/null 2>&1; then
	how=timeout
	xl destroy appliance >>$XL_OUT 2>&1
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
n=$(wc -l <$CONSOLE_LOG 2>/dev/null || echo 0)
say "the domain's console ($n lines, from xenconsoled's log):"
[ ! -f $CONSOLE_LOG ] || sed 's/^/xen-domu:console: /' $CONSOLE_LOG
say "xl create -F said (its status $xl_status):"
sed 's/^/xen-domu:xl: /' $XL_OUT
say "ended: $how"
halt_vm
