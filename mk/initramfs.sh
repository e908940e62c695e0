# SPDX-License-Identifier: MIT
# Sourced (bash) by scripts that boot a Debian kernel with an initramfs under QEMU, such as
# mk/xen-domu.sh: helpers that fill the initramfs's tree ROOT from packages mk/debs.sh
# unpacked, and pack it. tests/kvm-nested.sh does the same steps inline and could use these.
#
#   initramfs_modules ROOT MODDIR LIST NAME...
#       The kernel modules NAME (- and _ alike) from MODDIR (a lib/modules/VERSION tree) and
#       those they depend on, uncompressed in ROOT/lib/modules/, their file names listed
#       dependencies first in ROOT/lib/modules/LIST for the init to insmod in turn. Lists
#       may share modules (each names all it needs): an init loading several skips those
#       /proc/modules already has.
#   initramfs_program ROOT FILE DEST [LIBDIR...]
#       FILE at ROOT/DEST, with every shared library ldd finds for it, LIBDIR... searched
#       before the host's. The host's (glibc...) keep their paths; those from a LIBDIR go to
#       ROOT/usr/lib/x86_64-linux-gnu, which the loader searches without an ld.so.cache.
#   initramfs_pack ROOT BUSYBOX OUT
#       ROOT as a gzip'd newc cpio archive at OUT, every file root's (the host may have no
#       cpio: BUSYBOX, a static busybox, packs it).
#
# Each returns 0, or 1 after a line on stderr naming what is missing.

initramfs_error() { echo "initramfs: error: $*" >&2; return 1; }

initramfs_modules() {
	local root=$1 moddir=$2 list=$3 f n
	shift 3
	# The package ships no modules.dep (depmod writes it at install): each module's own
	# .modinfo names what it depends on.
	local -A path=() added=()
	while IFS= read -r f; do
		n=${f##*/}
		n=${n%%.ko*}
		path[${n//-/_}]=$f
	done < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz')
	mkdir -p "$root/lib/modules"
	: >"$root/lib/modules/$list"
	for n; do initramfs_add_module "$n" || return 1; done
}

# initramfs_add_module NAME: NAME after its dependencies; uses initramfs_modules' locals.
initramfs_add_module() {
	local name=${1//-/_} src dep deps ko
	[[ -z ${added[$name]:-} ]] || return 0
	added[$name]=1
	src=${path[$name]:-}
	[[ -n $src ]] || initramfs_error "module $name is not in $moddir" || return
	ko=$root/lib/modules/$name.ko
	# busybox's insmod takes a module as it is loaded: decompressed here if need be.
	if [[ $src == *.xz ]]; then xz -dc "$src" >"$ko"; else cp "$src" "$ko"; fi || return 1
	objcopy -O binary -j .modinfo "$ko" "$ko.modinfo" ||
		initramfs_error "cannot read $src's .modinfo" || return
	deps=$(tr '\0' '\n' <"$ko.modinfo" | sed -n 's/^depends=//p' | tr ',' ' ')
	rm -f "$ko.modinfo"
	for dep in $deps; do
		initramfs_add_module "$dep" || return 1
	done
	echo "$name.ko" >>"$root/lib/modules/$list"
}

initramfs_program() {
	local root=$1 file=$2 dest=$3 libpath lib
	shift 3
	libpath=$(IFS=:; echo "$*")
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$file" "$root$dest" || return 1
	# ldd prints "name => /path (address)" or "/path (address)": every absolute path.
	lib=$(LD_LIBRARY_PATH=$libpath ldd "$file" 2>&1) ||
		initramfs_error "ldd $file: $lib" || return
	if grep -q 'not found' <<<"$lib"; then
		initramfs_error "$file needs libraries found nowhere: $(grep 'not found' <<<"$lib" |
			awk '{ print $1 }' | tr '\n' ' ')"
		return
	fi
	for lib in $(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' <<<"$lib"); do
		if [[ -n $libpath && ":$libpath:" == *":$(dirname "$lib"):"* ]]; then
			mkdir -p "$root/usr/lib/x86_64-linux-gnu"
			cp -L "$lib" "$root/usr/lib/x86_64-linux-gnu/" || return 1
		else
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib" || return 1
		fi
	done
}

initramfs_pack() {
	local root=$1 busybox=$2 out=$3
	(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) |
		gzip -1 >"$out.part" && mv "$out.part" "$out" ||
		initramfs_error "packing $root into $out failed"
}
