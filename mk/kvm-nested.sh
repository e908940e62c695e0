#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches, verifies and unpacks what make test-kvm-nested boots under QEMU: a Debian kernel
# (its kvm and kvm-amd modules give the VM a /dev/kvm) and busybox-static (the VM's shell and
# tools), as .debs through the machine's apt sources, cached under BUILD_DIR/kvm-nested/.
#
# Usage: mk/kvm-nested.sh BUILD_DIR     (run from the project root; idempotent)
#
# The first run takes the kernel linux-image-amd64 depends on now and pins each .deb by the
# SHA-256 apt verified it against (its package index's), in BUILD_DIR/kvm-nested/debs.sha256;
# later runs check the cached files against that and fetch nothing. Delete
# BUILD_DIR/kvm-nested/ to take a newer kernel. Nothing is installed: the packages are only
# unpacked (dpkg -x) into BUILD_DIR/kvm-nested/{kernel,busybox}. Prints one line saying what
# it did.
set -euo pipefail

say() { echo "kvm-nested: $*"; }
die() { echo "kvm-nested: error: $*" >&2; exit 1; }

[[ $# == 1 ]] || die "usage: mk/kvm-nested.sh BUILD_DIR"
B=$(cd "$1" && pwd)
K=$B/kvm-nested
PIN=$K/debs.sha256

# apt with the private sources, lists and cache that mk/deps.sh derives from the machine's own
# configuration (so no mirror is named here).
[[ -f $B/apt/sources.list && -f $B/apt/apt.conf ]] ||
	die "$B/apt/sources.list is missing: run make deps first"
source "$(dirname "$0")/apt-opts.sh"
mkdir -p "$K/debs" "$B/apt/lists/partial" "$B/apt/cache/archives/partial"

# One run at a time, as in mk/deps.sh.
[[ -e $K/lock ]] || : >"$K/lock"
exec 9<"$K/lock"
flock 9

run_logged() {
	"$@" >>"$K/apt.log" 2>&1 || { tail -n 25 "$K/apt.log" >&2; die "'$*' failed; full log: $K/apt.log"; }
}

# The SHA-256 sums apt's index gives for package $1 at version $2 (one per suite that has it).
index_sha256() {
	apt-cache "${APT_OPTS[@]}" show "$1=$2" 2>/dev/null | sed -n 's/^SHA256: //p'
}

fetch() {
	local kernel deb pkg ver sum
	: >"$K/apt.log"
	# The private lists are mk/deps.sh's; refresh them only if they know no kernel at all.
	if ! apt-cache "${APT_OPTS[@]}" show linux-image-amd64 >/dev/null 2>&1; then
		run_logged apt-get "${APT_OPTS[@]}" update
	fi
	kernel=$(apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	[[ -n $kernel ]] || die "apt-cache depends linux-image-amd64 names no linux-image-*-amd64"
	rm -f "$K"/debs/*.deb "$PIN.part"
	(cd "$K/debs" && run_logged apt-get "${APT_OPTS[@]}" download "$kernel" busybox-static)
	for deb in "$K"/debs/*.deb; do
		pkg=$(dpkg-deb -f "$deb" Package)
		ver=$(dpkg-deb -f "$deb" Version)
		sum=$(sha256sum "$deb" | cut -d' ' -f1)
		index_sha256 "$pkg" "$ver" | grep -qx "$sum" ||
			die "$deb: SHA-256 $sum is not what apt's index lists for $pkg $ver"
		echo "$sum  debs/${deb##*/}" >>"$PIN.part"
	done
	[[ $(wc -l <"$PIN.part") == 2 ]] || die "expected 2 .debs in $K/debs, got $(wc -l <"$PIN.part")"
	mv "$PIN.part" "$PIN"
	say "fetched and pinned $kernel and busybox-static ($PIN)"
}

if [[ -f $PIN ]]; then
	(cd "$K" && sha256sum --quiet --strict -c debs.sha256) >&2 ||
		die "a cached .deb in $K/debs does not match $PIN (delete $K to fetch again)"
else
	fetch
fi

# Unpacked once per pinned set: the stamp holds the pins it was unpacked from.
if [[ ! -f $K/unpacked.stamp || $(<"$K/unpacked.stamp") != "$(<"$PIN")" ]]; then
	rm -rf "$K/kernel" "$K/busybox" "$K/unpacked.stamp"
	while read -r _ deb; do
		case $deb in
		debs/linux-image-*) dpkg -x "$K/$deb" "$K/kernel" ;;
		debs/busybox-static_*) dpkg -x "$K/$deb" "$K/busybox" ;;
		*) die "$PIN: unexpected entry $deb" ;;
		esac
	done <"$PIN"
	cp "$PIN" "$K/unpacked.stamp"
	say "unpacked $(cd "$K/kernel/lib/modules" && echo *) and busybox-static into $K"
else
	say "kernel $(cd "$K/kernel/lib/modules" && echo *) and busybox-static cached in $K"
fi
