#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install: copies the built kit into PREFIX as a tree that can be moved (nothing in it
# names PREFIX): hv, the x86_64-pvkit-cc compiler, and under lib/pvkit/ what it compiles and
# links with; the template appliance under share/pvkit/. Builds nothing: make does, first.
#
# Usage: mk/install.sh BUILD_DIR PREFIX 'GUEST_CODE_FLAGS' 'IMAGE_LINK_FLAGS'
#        (run from the project root; the flags are the Makefile's, for the wrapper)
set -euo pipefail

die() { echo "install: error: $*" >&2; exit 1; }

[[ $# == 4 ]] || die "usage: mk/install.sh BUILD_DIR PREFIX 'GUEST_CODE_FLAGS' 'IMAGE_LINK_FLAGS'"
B=$1 PREFIX=$2 CODE_FLAGS=$3 LINK_FLAGS=$4
[[ -n $PREFIX ]] || die "PREFIX is empty"
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
SYSROOT=$B/sysroot/x86_64-elf
LWIP_INCLUDE=$B/src/lwip/src/include
for f in "$B/hv" "$B/libos.a" "$B/liblwip.a" "$SYSROOT/lib/libc.a" "$SYSROOT/lib/libm.a" \
	"$SYSROOT/include/stdio.h" "$LWIP_INCLUDE/lwip/sockets.h"; do
	[[ -f $f ]] || die "$f is missing: build the kit first (make)"
done

KIT=$PREFIX/lib/pvkit
SHARE=$PREFIX/share/pvkit
# lib/pvkit and share/pvkit are the kit's alone: a new install replaces them whole, so no
# header of an older one stays behind.
rm -rf "$KIT" "$SHARE"
mkdir -p "$PREFIX/bin" "$KIT/bin" "$KIT/lib" "$KIT/x86_64-elf/lib" "$KIT/include/lwip-port/arch" \
	"$SHARE/templates"

install -m 755 "$B/hv" "$PREFIX/bin/hv"

# The wrapper, with the Makefile's flags written in.
sed -e "s|@GUEST_CODE_FLAGS@|$CODE_FLAGS|" -e "s|@IMAGE_LINK_FLAGS@|$LINK_FLAGS|" \
	mk/pvkit-cc.in >"$PREFIX/bin/x86_64-pvkit-cc"
chmod 755 "$PREFIX/bin/x86_64-pvkit-cc"

# The guest compiler is the tree's own (mk/guest-cc.in: host gcc run freestanding), with the
# paths mk/deps.sh writes in found at run time instead: newlib's headers in the kit, one level
# up from the script ("${0%/*}/.."), and gcc and its header folder from PATH.
sed -e "s|'@SYSROOT@|\"\${0%/*}/..\"'|" \
	-e "s|'@GCC_INCLUDE@'|\"\$(gcc -print-file-name=include)\"|" \
	-e "s|'@HOST_GCC@'|gcc|" mk/guest-cc.in >"$KIT/bin/x86_64-elf-gcc"
chmod 755 "$KIT/bin/x86_64-elf-gcc"
! grep -q '@[A-Z_]*@' "$KIT/bin/x86_64-elf-gcc" ||
	die "mk/guest-cc.in has a placeholder this script does not fill in"

# newlib, laid out as the sysroot the guest compiler expects.
cp -R "$SYSROOT/include" "$KIT/x86_64-elf/include"
install -m 644 "$SYSROOT/lib/libc.a" "$SYSROOT/lib/libm.a" "$KIT/x86_64-elf/lib/"

install -m 644 "$B/libos.a" "$B/liblwip.a" "$KIT/lib/"
install -m 644 libos/arch/x86_64/image.ld "$KIT/image.ld"

# An app's headers: libos's interface (not platform.h, which is libos's own), the ABI it is
# built on, the POSIX socket headers, lwIP's headers (those sit on them) and lwIP's port
# configuration (lwipopts.h, arch/).
for h in libos/include/*.h; do
	[[ $h == */platform.h ]] || install -m 644 "$h" "$KIT/include/"
done
install -m 644 hv-iface/include/hv_abi.h "$KIT/include/"
cp -R libos/include/posix "$KIT/include/posix"
cp -R "$LWIP_INCLUDE" "$KIT/include/lwip"
find "$KIT/include/lwip" -type f ! -name '*.h' -delete
install -m 644 libos/net/lwipopts.h "$KIT/include/lwip-port/"
install -m 644 libos/net/arch/*.h "$KIT/include/lwip-port/arch/"

# The template appliance, without anything built in it.
mkdir "$SHARE/templates/appliance"
tar -C templates/appliance --exclude='*.img' --exclude='*.o' --exclude='*.d' -cf - . |
	tar -C "$SHARE/templates/appliance" -xf -

echo "install: the kit is in $PREFIX (bin/hv, bin/x86_64-pvkit-cc, lib/pvkit, share/pvkit)"
