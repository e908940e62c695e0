#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches, verifies and unpacks Debian packages that tests boot under QEMU (a kernel, busybox,
# Xen), through the machine's apt sources, cached under BUILD_DIR/SET/. Nothing is installed:
# each package is only unpacked (dpkg -x) into BUILD_DIR/SET/NAME.
#
# Usage: mk/debs.sh BUILD_DIR SET NAME=PACKAGE...    (run from the project root; idempotent)
#
#   PACKAGE is a package name, or @kernel: the kernel linux-image-amd64 depends on now.
#
# The first run pins each .deb by the SHA-256 apt verified it against (its package index's) in
# BUILD_DIR/SET/debs.sha256; later runs check the cached files against that and fetch nothing.
# Delete BUILD_DIR/SET/ to take newer packages. Prints one line saying what it did.
set -euo pipefail

die() { echo "debs: error: $*" >&2; exit 1; }

[[ $# -ge 3 ]] || die "usage: mk/debs.sh BUILD_DIR SET NAME=PACKAGE..."
B=$(cd "$1" && pwd)
SET=$2
shift 2
K=$B/$SET
PIN=$K/debs.sha256
LIST=$K/debs.list # NAME and .deb per line, beside the pins
say() { echo "$SET: $*"; }

# apt with the private sources, lists and cache that mk/deps.sh derives from the machine's own
# configuration (so no mirror is named here).
[[ -f $B/apt/sources.list && -f $B/apt/apt.conf ]] ||
	die "$B/apt/sources.list is missing: run make deps first"
source "$(dirname "$0")/apt-opts.sh"
mkdir -p "$K/debs" "$B/apt/lists/partial" "$B/apt/cache/archives/partial"

# One run at a time per set, as in mk/deps.sh.
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

# The package a PACKAGE argument names.
resolve() {
	local kernel
	if [[ $1 != @kernel ]]; then
		echo "$1"
		return
	fi
	kernel=$(apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	[[ -n $kernel ]] || die "apt-cache depends linux-image-amd64 names no linux-image-*-amd64"
	echo "$kernel"
}

fetch() {
	local spec name pkg deb ver sum
	: >"$K/apt.log"
	# The private lists are mk/deps.sh's; refresh them only if they lack a package asked for.
	for spec; do
		pkg=${spec#*=}
		[[ $pkg == @kernel ]] && pkg=linux-image-amd64
		if ! apt-cache "${APT_OPTS[@]}" show "$pkg" >/dev/null 2>&1; then
			run_logged apt-get "${APT_OPTS[@]}" update
			break
		fi
	done
	rm -f "$K"/debs/*.deb "$PIN.part" "$LIST.part"
	for spec; do
		name=${spec%%=*}
		pkg=$(resolve "${spec#*=}")
		(cd "$K/debs" && run_logged apt-get "${APT_OPTS[@]}" download "$pkg")
		deb=$(cd "$K/debs" && ls -t "${pkg}"_*.deb | head -n 1)
		[[ -n $deb ]] || die "apt-get download $pkg left no ${pkg}_*.deb"
		ver=$(dpkg-deb -f "$K/debs/$deb" Version)
		sum=$(sha256sum "$K/debs/$deb" | cut -d' ' -f1)
		index_sha256 "$pkg" "$ver" | grep -qx "$sum" ||
			die "$deb: SHA-256 $sum is not what apt's index lists for $pkg $ver"
		echo "$sum  debs/$deb" >>"$PIN.part"
		echo "$name debs/$deb" >>"$LIST.part"
	done
	mv "$LIST.part" "$LIST"
	mv "$PIN.part" "$PIN"
	say "fetched and pinned $(cut -d' ' -f2 "$LIST" | sed 's|debs/||' | tr '\n' ' ')($PIN)"
}

# The set asked for: the names, in order (the pins were made for exactly these).
wanted=$(for spec; do echo "${spec%%=*}"; done)
if [[ -f $PIN && -f $LIST && $(cut -d' ' -f1 "$LIST") == "$wanted" ]]; then
	(cd "$K" && sha256sum --quiet --strict -c debs.sha256) >&2 ||
		die "a cached .deb in $K/debs does not match $PIN (delete $K to fetch again)"
else
	fetch "$@"
fi

# Unpacked once per pinned set: the stamp holds the pins it was unpacked from.
if [[ ! -f $K/unpacked.stamp || $(<"$K/unpacked.stamp") != "$(<"$PIN")" ]]; then
	rm -f "$K/unpacked.stamp"
	while read -r name deb; do
		rm -rf "${K:?}/$name"
		dpkg -x "$K/$deb" "$K/$name"
	done <"$LIST"
	cp "$PIN" "$K/unpacked.stamp"
	say "unpacked $(cut -d' ' -f1 "$LIST" | tr '\n' ' ')into $K"
else
	say "$(cut -d' ' -f1 "$LIST" | tr '\n' ' ')cached in $K"
fi
