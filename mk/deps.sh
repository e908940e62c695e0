#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the host tools and fetches, verifies and builds newlib and lwIP under BUILD_DIR.
#
# Usage: mk/deps.sh [--with-qemu] BUILD_DIR     (run from the project root; idempotent)
#   QEMU (qemu-system-x86 from backports) is installed by default: make run-qemu and the tests
#   use it. DEPS_WITH_QEMU=0 leaves it out (those tests then say SKIP); --with-qemu is the
#   default spelled out, and wins over DEPS_WITH_QEMU=0.
set -euo pipefail

# Host packages, by what needs them. All come from the machine's configured Debian sources.
HOST_PACKAGES=(
	gcc make binutils xz-utils dpkg-dev file ca-certificates patch # the build
	gdb                                                     # make gdb, the --gdb tests
	python3 curl iproute2 iputils-ping tcpdump dnsmasq-base # the tests' clients and networks
	redis-tools python3-fusepy                              # kvstore's tests: redis-cli, FUSE
	wrk nginx-light redis-server                            # bench-net's load and baselines
	gnuplot-nox                                             # make bench's plots
	clang libclang-rt-14-dev                                # make fuzz, fuzz-regress (libFuzzer)
)
# Packages taken from <codename>-backports, unless DEPS_WITH_QEMU=0: bookworm's QEMU 7.2 is too
# old for what we test against (QEMU 10 microvm, PVH boot).
BACKPORTS_PACKAGES=(qemu-system-x86)

# The tarballs are pinned, not the .debs: Debian revisions move, the sources must not.
NEWLIB_VERSION=3.3.0
NEWLIB_SHA256=c6f3a88b9d93420904241b231ca8647303be3bfb3cfef6adc8d1ea9207291033
LWIP_VERSION=2.1.3
LWIP_ORIG=lwip_2.1.3+dfsg1.orig.tar.xz
LWIP_SHA256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24

# Global stdio streams: every thread's newlib state (errno, strtok...) is its own, but stdin,
# stdout and stderr are one set of FILEs shared by all, as in a process.
# Small formatted I/O: printf and scanf without floating point unless an image links
# _printf_float or _scanf_float (-u), about 30 KB less in every image; mk/newlib-nano-c99.patch
# makes them take C99's length modifiers (%zu, %llx, %hhu). The full malloc stays: nano
# malloc's one free list costs microseconds per call once thousands of blocks are live.
# Frame pointers kept so crash backtraces walk through library frames; no red zone because
# interrupts arrive on the guest's own stacks; no unwind tables in the image (-g's
# .debug_frame, which strip removes, serves gdb).
NEWLIB_CFLAGS='-O2 -g -ffunction-sections -fdata-sections -fno-omit-frame-pointer -mno-red-zone'
NEWLIB_CFLAGS+=' -fno-asynchronous-unwind-tables'
NEWLIB_CONFIGURE=(--target=x86_64-elf --disable-multilib --disable-newlib-supplied-syscalls
	--enable-newlib-io-long-long --enable-newlib-io-c99-formats
	--enable-newlib-global-stdio-streams --enable-newlib-nano-formatted-io)
TOOLS=(ar as ld nm ranlib objdump objcopy strip readelf)

say() { echo "deps: $*"; }
die() { echo "deps: error: $*" >&2; exit 1; }

with_qemu=${DEPS_WITH_QEMU:-1}
[[ ${1:-} == --with-qemu ]] && { with_qemu=1; shift; }
[[ $# == 1 ]] || die "usage: mk/deps.sh [--with-qemu] BUILD_DIR"
mkdir -p "$1"
B=$(cd "$1" && pwd)
[[ $B != *[\'\\\|\&$'\n']* ]] || die "BUILD_DIR must not contain ', \\, |, & or newlines: $B"
D=$B/deps SYSROOT=$B/sysroot TOOLBIN=$B/toolchain/bin
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
NEWLIB_PATCH=$PROJECT/mk/newlib-nano-c99.patch
CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}")
mkdir -p "$D" "$B/apt/lists/partial" "$B/apt/cache/archives/partial" "$B/cache" "$B/src" "$TOOLBIN"

# One run at a time (make -j may start us twice). A read-only descriptor is enough for
# flock, so a fully cached run writes nothing and works in a build tree it cannot write.
[[ -e $D/lock ]] || : >"$D/lock"
exec 9<"$D/lock"
flock 9

# Writes stdin to file $1 only if it differs, so unchanged files keep their mtimes.
# Returns 1 if nothing changed.
update_file() {
	local new
	new=$(cat)
	[[ -f $1 && $(<"$1") == "$new" ]] && return 1
	printf '%s\n' "$new" >"$1"
}

# Runs a command with its output going to log $1 (started afresh in each run that uses it);
# on failure shows the log's tail.
declare -A log_started=()
run_logged() {
	local log=$1
	shift
	[[ -n ${log_started[$log]:-} ]] || { : >"$log"; log_started[$log]=1; }
	"$@" >>"$log" 2>&1 || { tail -n 25 "$log" >&2; die "'$*' failed; full log: $log"; }
}

check_sha256() {
	local actual
	actual=$(sha256sum "$1" | cut -d' ' -f1)
	[[ $actual == "$2" ]] ||
		die "checksum mismatch for $1: expected $2, got $actual (delete the file to fetch it again)"
}

# Prints "[OPTIONS]<TAB>URI<TAB>SUITE<TAB>COMPONENTS" (OPTIONS "-" if none) for every enabled
# entry of the machine's apt sources, in both the one-line and the deb822 format.
read_apt_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		sed 's/#.*//' "$f" | awk -v OFS='\t' '$1 == "deb" || $1 == "deb-src" {
			opts = "-"; i = 2
			if ($2 ~ /^\[/) { opts = $2; while (opts !~ /\]$/ && i < NF) opts = opts " " $(++i); i++ }
			comps = $(i + 2); for (j = i + 3; j <= NF; j++) comps = comps " " $j
			print opts, $i, $(i + 1), comps }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk -v OFS='\t' '
		function flush(   o, i, j, nu, ns, U, S) {
			if (F["uris"] != "" && tolower(F["enabled"]) !~ /no/) {
				if (F["signed-by"] ~ /BEGIN PGP/) {
					print "deps: " FILENAME ": inline Signed-By key not supported" > "/dev/stderr"
				} else {
					gsub(/ /, "", F["signed-by"]); gsub(/^ | $/, "", F["architectures"])
					gsub(/ +/, ",", F["architectures"]); gsub(/^ +| +$/, "", F["components"])
					o = (F["signed-by"] != "" ? " signed-by=" F["signed-by"] : "")
					o = o (F["architectures"] != "" ? " arch=" F["architectures"] : "")
					o = (o == "" ? "-" : "[" substr(o, 2) "]")
					nu = split(F["uris"], U, " "); ns = split(F["suites"], S, " ")
					for (i = 1; i <= nu; i++)
						for (j = 1; j <= ns; j++) print o, U[i], S[j], F["components"]
				}
			}
			split("", F)
		}
		/^#/ { next }
		/^[ \t]*$/ { flush(); next }
		/^[ \t]/ { F[field] = F[field] " " $0; next }  # a folded field continues
		{
			field = tolower(substr($0, 1, index($0, ":") - 1))
			F[field] = substr($0, index($0, ":") + 1)
		}
		END { flush() }' "$f" | tr -s ' '
	done
}

# The machine's Debian entries as deb and deb-src lines, plus <codename>-backports next to the
# main archive. Derived at run time so no mirror name is ever written into the project.
write_apt_sources() {
	local opts uri suite comps lines
	lines=$(while IFS=$'\t' read -r opts uri suite comps; do
		[[ $suite == "$CODENAME" || $suite == "$CODENAME"-* ]] || continue
		[[ $opts == - ]] && opts= || opts="$opts "
		echo "deb $opts$uri $suite $comps"
		echo "deb-src $opts$uri $suite $comps"
		if [[ $suite == "$CODENAME" ]]; then echo "deb $opts$uri $CODENAME-backports $comps"; fi
	done < <(read_apt_sources) | awk '!seen[$0]++')
	[[ -n $lines ]] || die "no enabled apt source for $CODENAME in /etc/apt"
	update_file "$B/apt/sources.list" <<<"$lines" || true
	# The system's update hooks refresh system caches (PackageKit, AppStream) and have
	# nothing to do with our private lists; apt can only clear a list from a config file.
	printf '#clear APT::Update::Post-Invoke;\n#clear APT::Update::Post-Invoke-Success;\n' |
		update_file "$B/apt/apt.conf" || true
}

# apt with private sources, lists and cache (each option explained there).
source "$(dirname "$0")/apt-opts.sh"

# Refreshes the private package lists once per run, and only in runs that download.
apt_updated=0
apt_update() {
	((apt_updated)) && return
	run_logged "$D/apt.log" apt-get "${APT_OPTS[@]}" update
	apt_updated=1
}

missing_packages() {
	local p
	for p; do
		[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || echo "$p"
	done
}

# --- step 1: host packages -------------------------------------------------------------
mapfile -t missing < <(missing_packages "${HOST_PACKAGES[@]}")
if ((${#missing[@]})); then
	((EUID == 0)) ||
		die "missing host packages; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive run_logged "$D/apt.log" \
		apt-get install -y --no-install-recommends "${missing[@]}"
	say "installed ${missing[*]}"
fi
say "host packages ok"

# --- step 2: private apt configuration (cheap, so always rederived) --------------------
write_apt_sources

if ((with_qemu)); then
	mapfile -t missing < <(missing_packages "${BACKPORTS_PACKAGES[@]}")
	if ((${#missing[@]})); then
		install=(apt-get "${APT_OPTS[@]}" -o APT::Keep-Downloaded-Packages=false install -y
			--no-install-recommends -t "$CODENAME-backports" "${missing[@]}")
		apt_update # needs no root, and makes the printed command below work as it stands
		((EUID == 0)) || die "missing ${missing[*]}; run: sudo $(printf '%q ' "${install[@]}")"
		DEBIAN_FRONTEND=noninteractive run_logged "$D/apt.log" "${install[@]}"
		say "installed ${missing[*]} from $CODENAME-backports"
	fi
	say "backports packages ok"
fi

# --- toolchain wrappers (cheap, so always regenerated; absolute paths follow BUILD_DIR) --
wrappers_changed=0
sed -e "s|@SYSROOT@|$SYSROOT|g" -e "s|@HOST_GCC@|$(command -v gcc)|g" \
	-e "s|@GCC_INCLUDE@|$(gcc -print-file-name=include)|g" "$PROJECT/mk/guest-cc.in" |
	update_file "$TOOLBIN/x86_64-elf-gcc" && wrappers_changed=1
for t in "${TOOLS[@]}"; do
	host=$(command -v "$t") || die "host tool $t not found"
	printf '#!/bin/sh\n# Generated by mk/deps.sh: the host binutils serve the guest.\n' |
		cat - <(echo "exec $host \"\$@\"") | update_file "$TOOLBIN/x86_64-elf-$t" && wrappers_changed=1
done
if ((wrappers_changed)); then
	chmod +x "$TOOLBIN"/x86_64-elf-*
	say "toolchain wrappers written to $TOOLBIN"
fi

# --- step 3: newlib ---------------------------------------------------------------------
# Whatever decides how newlib is compiled, the wrapper template and the patch included, is in
# the stamp: a build folder made before any of them changed rebuilds newlib.
template_sum=$(sha256sum <"$PROJECT/mk/guest-cc.in" | cut -c1-16)
patch_sum=$(sha256sum <"$NEWLIB_PATCH" | cut -c1-16)
newlib_key="$NEWLIB_SHA256 $template_sum $patch_sum ${NEWLIB_CONFIGURE[*]} $NEWLIB_CFLAGS"
if [[ -f $D/newlib.stamp && $(<"$D/newlib.stamp") == "$newlib_key" &&
	-f $SYSROOT/x86_64-elf/lib/libc.a && -f $SYSROOT/x86_64-elf/lib/libm.a ]]; then
	say "newlib $NEWLIB_VERSION cached"
else
	start=$SECONDS
	rm -f "$D/.done" "$D/newlib.stamp"
	tarball=$B/cache/newlib-$NEWLIB_VERSION.tar.xz
	if [[ ! -f $tarball ]]; then
		apt_update
		rm -f "$B"/cache/newlib-source_*.deb
		(cd "$B/cache" && run_logged "$D/apt.log" apt-get "${APT_OPTS[@]}" download newlib-source)
		dpkg-deb --fsys-tarfile "$B"/cache/newlib-source_*.deb |
			tar -xOf - "./usr/src/newlib/newlib-$NEWLIB_VERSION.tar.xz" >"$tarball.part"
		mv "$tarball.part" "$tarball"
	fi
	check_sha256 "$tarball" "$NEWLIB_SHA256"
	rm -rf "$B/src/newlib-salsa" "$B/newlib-build" "$SYSROOT/x86_64-elf"
	tar -xJf "$tarball" -C "$B/src"
	run_logged "$D/newlib.log" patch -p1 -d "$B/src/newlib-salsa" <"$NEWLIB_PATCH"
	mkdir -p "$B/newlib-build"
	# An outer make's flags and variables (MAKEFLAGS, CC, CFLAGS ...) must not leak into
	# newlib's build, which has its own idea of all of them.
	build_env=(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS
		PATH="$TOOLBIN:$PATH")
	(
		cd "$B/newlib-build"
		run_logged "$D/newlib.log" "${build_env[@]}" "$B/src/newlib-salsa/configure" \
			--prefix="$SYSROOT" "${NEWLIB_CONFIGURE[@]}" CFLAGS_FOR_TARGET="$NEWLIB_CFLAGS"
		run_logged "$D/newlib.log" "${build_env[@]}" make -j"$(nproc)" all-target-newlib
		run_logged "$D/newlib.log" "${build_env[@]}" make install-target-newlib
	)
	for f in include/stdio.h lib/libc.a lib/libm.a; do
		[[ -f $SYSROOT/x86_64-elf/$f ]] || die "newlib installed no x86_64-elf/$f; see $D/newlib.log"
	done
	echo "$newlib_key" >"$D/newlib.stamp"
	say "newlib $NEWLIB_VERSION built ($((SECONDS - start)) s)"
fi

# --- step 4: lwIP (fetched and unpacked; the kit builds it with its own port) ------------
if [[ -f $D/lwip.stamp && $(<"$D/lwip.stamp") == "$LWIP_SHA256" &&
	-f $B/src/lwip/src/include/lwip/init.h ]]; then
	say "lwip $LWIP_VERSION cached"
else
	start=$SECONDS
	rm -f "$D/.done" "$D/lwip.stamp"
	if [[ ! -f $B/cache/$LWIP_ORIG ]]; then
		apt_update
		(cd "$B/cache" && run_logged "$D/apt.log" apt-get "${APT_OPTS[@]}" source --download-only lwip)
		[[ -f $B/cache/$LWIP_ORIG ]] || die "apt-get source lwip fetched no $LWIP_ORIG; see $D/apt.log"
		# Debian's packaging is for a Hurd/Linux port; only the upstream tarball is used.
		rm -f "$B"/cache/lwip_*.dsc "$B"/cache/lwip_*.debian.tar.*
	fi
	check_sha256 "$B/cache/$LWIP_ORIG" "$LWIP_SHA256"
	# The tarball's top folder is named after the version; the kit wants a fixed path.
	rm -rf "$B/src/lwip" "$B/src/lwip.part"
	mkdir -p "$B/src/lwip.part"
	tar -xJf "$B/cache/$LWIP_ORIG" -C "$B/src/lwip.part" --strip-components=1
	[[ -f $B/src/lwip.part/src/include/lwip/init.h ]] || die "$LWIP_ORIG lacks src/include/lwip/init.h"
	mv "$B/src/lwip.part" "$B/src/lwip"
	echo "$LWIP_SHA256" >"$D/lwip.stamp"
	say "lwip $LWIP_VERSION fetched ($((SECONDS - start)) s)"
fi

# Rewritten only when its content changes, so what make builds on it is not rebuilt for
# nothing; but kept newer than this script and the template, which make compares it with.
printf 'newlib %s\nlwip %s\n' "$newlib_key" "$LWIP_SHA256" | update_file "$D/.done" ||
	[[ $D/.done -nt $PROJECT/mk/deps.sh && $D/.done -nt $PROJECT/mk/guest-cc.in &&
		$D/.done -nt $NEWLIB_PATCH ]] ||
	touch "$D/.done"
