# SPDX-License-Identifier: MIT
# apps/blktest through libos's virtio-blk driver on hv and on QEMU: a pattern written over a
# whole disk in requests of 1 to 64 sectors, flushed and read back; a second boot reading
# what the first wrote; a read-only disk refusing writes; on proc, the exits the guest's
# futex waits and eventfd kicks save. Sourced by tests/run.sh.

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

# On proc the guest kicks by an eventfd write and waits by a futex (hv_abi.h,
# HV_BOOT_LINUX_CALLS), where each was a stop of its process (--no-linux-calls): the disk's
# first kick is always one (its queue starts with kicks on), and sleep.img's three sleeps
# each block once at least.
if [[ $HV_BACKEND == proc ]]; then
	proc_calls() { # proc_calls HV_OPTION...: "exits doorbells-without-an-exit blocks"
		local d b
		d=$("$HV" --stats "$@" --disk="$TMP/blk-hv.img" "$B/apps/blktest.img" write 13 2>&1 |
			awk '/ exits in / { e = $4 } / doorbells without an exit/ { d = $5 }
			     END { print e + 0, d + 0 }')
		b=$("$HV" --stats "$@" "$B/tests/guest/sleep.img" 2>&1 | awk '$4 == "block" { b = $5 } END { print b + 0 }')
		echo "$d $b"
	}
	read -r fast_exits fast_kicks fast_blocks < <(proc_calls)
	read -r trap_exits trap_kicks trap_blocks < <(proc_calls --no-linux-calls)
	if ((fast_kicks >= 1 && fast_blocks == 0 && trap_kicks == 0 && trap_blocks >= 3)); then
		ok "blk on hv: proc's eventfd kicks and futex waits: $fast_kicks kicks without an exit, no block hypercall ($trap_kicks and $trap_blocks with --no-linux-calls); blktest's exits $fast_exits against $trap_exits"
	else
		not_ok "blk on hv: $fast_kicks kicks without an exit and $fast_blocks block hypercalls, $trap_kicks and $trap_blocks with --no-linux-calls: want 1 or more and 0, 0 and 3 or more"
	fi
fi
if command -v qemu-system-x86_64 >/dev/null; then
	blk_on qemu on_qemu
else
	skip "blk on qemu: qemu-system-x86_64 is not installed (make deps installs it)"
fi
