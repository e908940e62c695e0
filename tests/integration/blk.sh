# SPDX-License-Identifier: MIT
# apps/blktest through libos's virtio-blk driver on hv and on QEMU: a pattern written over a
# whole disk in requests of 1 to 64 sectors, flushed and read back; a second boot reading
# what the first wrote; a read-only disk refusing writes. Sourced by tests/run.sh.

blk_on() { # blk_on NAME RUNNER...: the three cases with the disk options RUNNER needs
	local where=$1 disk=$TMP/blk-$1.img
	shift
	head -c $((8 << 20)) /dev/zero >"$disk"
	"$@" rw "$disk" write 11 >"$TMP/blk.out" 2>&1
	expect "blk on $where: write 16384 sectors, flush, verify" $? 0 "$TMP/blk.out" \
		"wrote 16384 sectors with seed 11 and flushed" "verified 16384 sectors" SUCCESS
	"$@" rw "$disk" verify 11 >"$TMP/blk.out" 2>&1
	expect "blk on $where: a second boot reads what the first wrote" $? 0 "$TMP/blk.out" \
		"verified 16384 sectors with seed 11" SUCCESS
	"$@" rw "$disk" verify 12 >"$TMP/blk.out" 2>&1
	expect "blk on $where: the check fails on a different pattern" $? 1 "$TMP/blk.out" \
		"FAILURE: sector 0 differs (holds sector 0, seed 11)"
	"$@" ro "$disk" readonly >"$TMP/blk.out" 2>&1
	expect "blk on $where: a read-only disk refuses writes" $? 0 "$TMP/blk.out" \
		"read-only: 1, write: Read-only file system, read: ok" SUCCESS
}

on_hv() { # on_hv rw|ro DISK ARGS...
	local mode=$1 disk=$2
	shift 2
	"$HV" --disk="$disk$([[ $mode == ro ]] && echo ,ro)" "$B/apps/blktest.img" "$@"
}

on_qemu() {
	local mode=$1 disk=$2
	shift 2
	QEMU_OPTS="-drive if=none,id=d0,file=$disk,format=raw$([[ $mode == ro ]] && echo ,readonly=on) -device virtio-blk-device,drive=d0" \
		timeout 120 mk/qemu-run.sh "$B/apps/blktest.img" "$@"
}

blk_on hv on_hv
if command -v qemu-system-x86_64 >/dev/null; then
	blk_on qemu on_qemu
else
	skip "blk on qemu: qemu-system-x86_64 is not installed (make deps installs it)"
fi
