#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# hv's kvm backend tested on a host without /dev/kvm: QEMU's TCG with -cpu max emulates an
# AMD CPU with SVM and nested paging, so a Debian kernel booted there loads kvm-amd and offers
# /dev/kvm, and hv runs its guests on it (slowly: everything is emulated). This script packs
# that kernel's kvm modules, busybox, hv with its libraries, the test images and the cases
# into an initramfs, boots it, and passes the VM's result lines through. tests/run.sh (make
# test) runs it where /dev/kvm is missing; make test-kvm-nested runs it alone.
#
# Usage: tests/kvm-nested.sh BUILD_DIR     (after make test-build; run from the project root)
#   KVM_NESTED_TIMEOUT=S   seconds the whole VM may take (default 1200)
#   KVM_NESTED_HV=FILE     the hv binary to test (default BUILD_DIR/hv)
#   KVM_NESTED_TR_FIX=0    run hv without tests/kvm_nested_tr.c preloaded (below)
#   QEMU=path              the emulator (default qemu-system-x86_64)
#
# The cases, all with --backend=kvm: hello (output, status, --stats naming the backend, its
# clock), every tests/guest/*.c with the status and lines its header names (the fields
# run_guest_test in tests/run.sh reads, expect-stderr-kvm included), the two-domain cases of
# tests/integration/domains.sh that exercise event channels, grants and a domain ending
# alone, a raw system call, which on kvm is #UD (tests/integration/sandbox.sh), and hv
# --trace's lines (tests/integration/trace.sh).
#
# Two things stand between TCG and what hardware does, and are made up for here:
# - QEMU's TCG refuses ring-3 port I/O through a busy TSS, which hv's task register is (as on
#   any CPU after LTR): every hypercall would be a #GP. hv runs with BUILD_DIR/tests/
#   kvm_nested_tr.so preloaded, which gives KVM type 9 instead (the file says why).
# - Emulation is 10-100x slower than the machines the tests' own deadlines were set for (a
#   grant-window fill outlasts a 20 s phase wait). QEMU counts time in instructions
#   (-icount), so the guests see a CPU of about 1 GHz whatever the host's speed.
#
# Exits 0 if every case passed; 1 if one failed, /dev/kvm did not appear in the VM, or the VM
# ended without its summary (each said on the last line); 2 on bad usage. The VM's whole
# console is kept in BUILD_DIR/kvm-nested/console.log.
set -uo pipefail

die() { echo "kvm-nested: error: ${*:2}" >&2; exit "$1"; }

(($# == 1)) || die 2 "usage: tests/kvm-nested.sh BUILD_DIR"
B=$(cd "$1" && pwd) || exit 2
K=$B/kvm-nested
R=$K/root
HV_BIN=${KVM_NESTED_HV:-$B/hv}
QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=${KVM_NESTED_TIMEOUT:-1200}

command -v "$QEMU" >/dev/null || die 1 "$QEMU not found; install it with: make deps"
[[ -x $HV_BIN ]] || die 1 "$HV_BIN: no hv; build it with: make test-build"
TR_FIX=$B/tests/kvm_nested_tr.so
[[ ${KVM_NESTED_TR_FIX:-1} == 0 || -f $TR_FIX ]] ||
	die 1 "$TR_FIX is missing; build it with: make $TR_FIX"
mk/kvm-nested.sh "$B" || exit 1
BUSYBOX=$K/busybox/bin/busybox
mapfile -t kernels < <(find "$K/kernel/boot" -name 'vmlinuz-*')
((${#kernels[@]} == 1)) || die 1 "expected one vmlinuz in $K/kernel/boot, found ${#kernels[@]}"
MODDIR=$(echo "$K"/kernel/lib/modules/*)

# --- the initramfs's tree --------------------------------------------------------------
rm -rf "$R"
mkdir -p "$R"/{bin,dev,proc,sys,tmp,lib/modules,img/apps,img/guest,img/integration}
cp "$BUSYBOX" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
cp tests/kvm-nested-init.sh "$R/init"
chmod 755 "$R/init"

# The modules and what they need, dependencies first. The package ships no modules.dep
# (depmod writes it at install), so each module's own .modinfo names its dependencies.
declare -A module_path=() module_added=()
while IFS= read -r f; do
	n=${f##*/}
	n=${n%%.ko*}
	module_path[${n//-/_}]=$f
done < <(find "$MODDIR" -name '*.ko' -o -name '*.ko.xz')
add_module() {
	local name=${1//-/_} src dep
	[[ -z ${module_added[$name]:-} ]] || return 0
	module_added[$name]=1
	src=${module_path[$name]:-}
	[[ -n $src ]] || die 1 "module $name is not in $MODDIR"
	# busybox's insmod takes the module as it is loaded: decompressed here if need be.
	if [[ $src == *.xz ]]; then xz -dc "$src" >"$R/lib/modules/$name.ko"; else
		cp "$src" "$R/lib/modules/$name.ko"; fi
	objcopy -O binary -j .modinfo "$R/lib/modules/$name.ko" "$K/modinfo" ||
		die 1 "cannot read $src's .modinfo"
	for dep in $(tr '\0' '\n' <"$K/modinfo" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$dep"
	done
	echo "$name.ko" >>"$R/lib/modules/order"
}
add_module kvm_amd

# hv and the shared libraries it loads, at their own paths.
cp "$HV_BIN" "$R/bin/hv"
libs=$(ldd "$HV_BIN" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }')
[[ -n $libs ]] || die 1 "ldd $HV_BIN lists no libraries"
for lib in $libs; do
	mkdir -p "$R$(dirname "$lib")"
	cp -L "$lib" "$R$lib"
done

[[ ${KVM_NESTED_TR_FIX:-1} == 0 ]] || cp "$TR_FIX" "$R/lib/kvm_nested_tr.so"
# hv's own sandbox on kvm: a preloaded thread plays a bug in hv (tests/integration/hv_probe.c).
cp "$B/tests/hv_probe.so" "$R/lib/hv_probe.so"

# hv's GDB stub on kvm, driven by a scripted client (tests/gdb_rsp.c; no gdb in this VM):
# gdb_pair PORT IMAGE PACKET... runs hv --gdb=PORT IMAGE, the client once hv listens, and
# exits with hv's status after both outputs.
cp "$B/tests/gdb_rsp" "$R/bin/gdb_rsp"
cat >"$R/bin/gdb_pair" <<'EOF'
#!/bin/sh
port=$1 img=$2
shift 2
ifconfig lo 127.0.0.1 up # hv listens on the loopback address
rm -f /tmp/gdb_hv.out # the last case's, which says it waits too
hv --backend=kvm --gdb="$port" "$img" >/tmp/gdb_hv.out 2>&1 &
pid=$!
i=0
while ! grep -q 'waiting for gdb' /tmp/gdb_hv.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
gdb_rsp "$port" "$@"
wait $pid
st=$?
cat /tmp/gdb_hv.out
exit $st
EOF
chmod +x "$R/bin/gdb_pair"

cp "$B/apps/hello.img" "$R/img/apps/"
cp "$B"/tests/guest/*.img "$R/img/guest/"
for i in pv_events pv_grants syscall sleeper hostile hostile_vq witness; do cp "$B/tests/integration/$i.img" "$R/img/integration/"; done

# --- the cases, written as busybox sh for the VM's /init ---------------------------------
# q WORD: WORD quoted for sh; @HOST_TIME@ in it becomes the VM's time when the case runs.
q() {
	local sq="'\\''" now="'\"\$(date +%s)\"'" s
	s="'${1//\'/"$sq"}'"
	printf '%s' "${s//@HOST_TIME@/"$now"}"
}
# words WORD...: the words quoted, blank-separated.
words() {
	local w out=()
	for w; do out+=("$(q "$w")"); done
	printf '%s' "${out[*]}"
}
# emit_want KIND LINE...: a want line for each LINE.
emit_want() {
	local kind=$1 line
	shift
	for line; do [[ -z $line ]] || echo "want $kind $(q "$line")"; done
}
field() { sed -n "s/^ \* $2: //p" "$1"; }

# A guest test as tests/run.sh's run_guest_test reads its header.
guest_case() {
	local src=$1 base args=() opts=() lines=()
	base=$(basename "$src" .c)
	if [[ -n $(field "$src" args) ]]; then
		IFS='|' read -r -a args <<<"$(field "$src" args)"
		[[ $(field "$src" args) == *'|' ]] && args+=("")
	fi
	read -r -a opts <<<"$(field "$src" hv-options)"
	if [[ ${opts[*]} == *@DISK@* ]]; then
		echo "fresh_disk"
		opts=("${opts[@]//@DISK@//tmp/disk/disk.img}")
	fi
	mapfile -t lines < <(field "$src" expect-stdout)
	emit_want stdout "${lines[@]}"
	mapfile -t lines < <(field "$src" expect-stderr; field "$src" expect-stderr-kvm)
	emit_want stderr "${lines[@]}"
	echo "check $(words "guest/kvm/$base" "$(field "$src" expect-status)" hv --backend=kvm \
		"${opts[@]}" "/img/guest/$base.img" ${args[@]+"${args[@]}"})"
}

# dom_case NAME WANT_STATUS SUBSTRINGS... -- HV_ARGS...: as in tests/integration/domains.sh,
# the substrings anywhere in hv's output.
dom_case() {
	local name=$1 want=$2 subs=()
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	emit_want output "${subs[@]}"
	echo "check $(words "$name" "$want" hv --backend=kvm "$@")"
}

# A hostile domain beside the witness, as in tests/integration/hostile.sh: the cases whose
# path differs on kvm (port I/O exits, device doorbells through ioeventfds, grant maps as
# memory slots), each with hv's message and the witness unharmed.
hostile_nested() {
	local HO=/img/integration/hostile.img HQ=/img/integration/hostile_vq.img
	local wit=(:: --name=witness --disk=/tmp/disk/w.img /img/integration/witness.img 1)
	local ok="witness: " intact="intact; SUCCESS" w0="hv: dom2 (witness): exited with 0"

	echo "echo; echo '== hostile guests beside a witness (backend kvm): tests/integration/hostile.sh cases'"
	h_case() {
		local name=$1 want=$2 msg=$3
		shift 3
		echo "fresh_disk; head -c 1048576 /dev/zero >/tmp/disk/w.img"
		emit_want output "$ok" "$intact" "$w0"
		[[ $msg == - ]] || emit_want stderr "hv: hostile: $msg"
		echo "check $(words "hostile: $name" "$want" hv --backend=kvm --name=hostile "$@" \
			"${wit[@]}")"
	}
	h_case "console_write, argument block unaligned" 81 \
		"console_write: argument block at 0x" "$HO" block unaligned 0
	h_case "gnttab_op, argument block in hv's IDT" 81 \
		"gnttab_op: argument block at 0x2000 is outside guest memory" "$HO" block hv-area 5
	h_case "store, argument block straddling into shared info" 81 \
		"store: argument block at 0xfeff8 is outside guest memory" "$HO" block straddle 6
	h_case "a port between two hypercalls" 81 "I/O to port 0x50a, which is not a hypercall" \
		"$HO" port between
	h_case "a port past hv's (closed in the TSS bitmap)" 80 \
		"guest fault: general protection fault (#GP), vector 13" "$HO" port closed
	# This KVM reports each out of the string alone: a call whose block is in hv's IDT page.
	h_case "rep outsl to a hypercall port" 81 \
		"wallclock: argument block at 0x2000 is outside guest memory" "$HO" port rep
	h_case "console_write, a buffer that wraps" 81 \
		"console_write: buffer [0xffffffffffffff00, +0x200) is outside guest memory" "$HO" console wrap
	h_case "a write through a read-only map of dom2's page" 81 \
		"write of 1 bytes at 0xd0000008 to a read-only grant: ref 3 of dom2, mapped read-only (handle 0)" \
		"$HO" grant-ro-write
	h_case "grants: bad tables, frames, refs, handles, domains, copies" 0 - "$HO" grant
	h_case "virtqueue: a read into the boot info" 0 \
		"virtio-blk0 queue 0: descriptor 1: buffer [0xfb000, +0x200) is outside writable guest memory" \
		--disk=/tmp/disk/disk.img "$HQ" vq boot-info
	h_case "virtqueue: a 256-descriptor chain, then a loop" 0 \
		"virtio-blk0 queue 0: chain from descriptor 0 is longer than the queue size 256 (a loop)" \
		--disk=/tmp/disk/disk.img "$HQ" vq huge-chain
	h_case "registers: 1100 accesses of every wrong kind" 0 \
		"virtio-blk0: notify of queue 65535, which does not exist, ignored (further ones are not reported)" \
		--disk=/tmp/disk/disk.img "$HQ" mmio
	h_case "network: receive buffers in the boot info" 0 \
		"virtio-net1 queue 0: descriptor 0: buffer [0xfb000, +0x5f6) is outside writable guest memory" \
		--net=switch:h --net=switch:h "$HQ" net rx-readonly
	h_case "storm: event-channel sends for 300 ms" 0 - "$HO" storm evtchn 300
	h_case "storm: doorbells for 300 ms" 0 - "$HO" storm doorbell 300
}

# hv's GDB stub on kvm (tests/integration/gdb.sh drives the same with gdb on proc): a
# breakpoint at main and the step off it (through the fault stub's frame and its iretq), a
# Ctrl-C while the guest blocks, a fault that gdb sees before hv ends the domain.
gdb_nested() {
	local main
	main=$(nm "$B/apps/hello.img" | awk '$3 == "main" { sub(/^0+/, "", $1); print $1 }')
	echo "echo; echo '== the GDB stub (backend kvm): tests/integration/gdb.sh cases, by a scripted client'"
	emit_want output "< S05" "< T05swbreak:;" "< W00" "Hello from the hello appliance!"
	echo "want count:1 $(q "rip=0x$main")"
	echo "want count:2 $(q "< OK")"
	echo "check $(words "gdb: a breakpoint at main, its rip, a step off it, the run to its end" 0 \
		gdb_pair 23001 /img/apps/hello.img '?' "Z0,$main,1" c rip "z0,$main,1" s rip c)"
	emit_want output "< S02" "hv: /img/integration/sleeper.img: killed from gdb"
	echo "check $(words "gdb: a Ctrl-C stops a guest blocked in hv; k kills it" 137 \
		gdb_pair 23002 /img/integration/sleeper.img '!c' ctrl-c:2000 rip k)"
	emit_want output "< S0b" "< X09" "guest fault: page fault (#PF)"
	echo "check $(words "gdb: a fault stops in gdb, then hv ends the domain" 80 \
		gdb_pair 23003 /img/guest/null_deref.img c c)"
}

# hv --trace on kvm, as tests/integration/trace.sh checks it on every backend: the same
# command, its lines decoded alike; and a doorbell is an ioeventfd here, so a queue's notify
# reaches the device's thread with no exit to trace.
trace_nested() {
	local line='^[0-9]+\.[0-9]{3}us dom[0-9]+:[!-~]+ (vcpu0|ring|virtio-(blk|net)[0-9]+) (start|end|hypercall|io|mmio|fault|syscall|shutdown|intr|backend|doorbell|event|request|send)( .*)?$'
	local v=vcpu0 b0="vcpu0 mmio virtio-blk0" GR=/img/integration/pv_grants.img

	echo "echo; echo '== hv --trace (backend kvm): tests/integration/trace.sh cases'"
	emit_want match:stderr "dom1:hello\.img $v start backend=kvm mem=32M entry=0x[0-9a-f]+ devices=none\$" \
		"$v hypercall console_write buf=0x[0-9a-f]+ len=32 \"Hello from the hello app\"\.\.\. -> 32\$" \
		"$v hypercall exit status=0 -> exited with 0\$" "$v end exits=[0-9]+ .* -> exited with 0\$"
	emit_want lines:stderr "$line"
	emit_want stdout "Hello from the hello appliance!"
	echo "check $(words "trace: hello, each console write and the exit" 0 hv --backend=kvm --trace \
		/img/apps/hello.img a)"
	echo "fresh_disk"
	emit_want match:/tmp/blk.log "$b0 read MAGIC_VALUE -> 0x74726976\$" \
		"$b0 write STATUS=0xb\(ACKNOWLEDGE\|DRIVER\|FEATURES_OK\) -> 0x3\(ACKNOWLEDGE\|DRIVER\)\$" \
		"virtio-blk0 doorbell q0 kicks=[0-9]+\$" \
		"virtio-blk0 request q0 head=[0-9]+ OUT sector=10 len=1536 -> OK after " \
		"virtio-blk0 event q0 port=1 -> pending" \
		"$v hypercall block deadline=\+[0-9.]+ms -> EVENT after [0-9.]+ms pending=1\$"
	emit_want absent:/tmp/blk.log "mmio virtio-blk0 write QUEUE_NOTIFY"
	emit_want lines:/tmp/blk.log "$line"
	emit_want absent:stderr "^[0-9]+\.[0-9]{3}us dom"
	echo "check $(words "trace: a disk's registers by name, its requests; notifies by ioeventfd, no exit" \
		0 hv --backend=kvm --trace=/tmp/blk.log --disk=/tmp/disk/disk.img /img/guest/blk_roundtrip.img)"
	emit_want match:stderr "$v fault #PF vector=14 error=0x[0-9a-f]+ rip=0x[0-9a-f]+ cr2=0x[0-9a-f]+ -> ended: guest fault \(80\)\$"
	emit_want lines:stderr "$line"
	echo "check $(words "trace: a fault, its vector, error code, rip, cr2" 80 hv --backend=kvm --trace \
		/img/guest/write_text.img)"
	emit_want match:stderr "dom2:writer $v hypercall gnttab_op MAP dom=1 ref=2 flags=ro -> GNTST_okay addr=0xd0000000 handle=0\$" \
		"dom2:writer $v mmio grant-window write 0xd0000008 len=1 value=0x[0-9a-f]+ -> ended: ABI violation \(81\)\$" \
		"dom1:granter $v end .* -> exited with 0\$"
	emit_want lines:stderr "$line"
	echo "check $(words "trace: two domains, a grant mapped read-only and the write that ends one" 81 \
		hv --backend=kvm --trace --name=granter "$GR" granter-simple 2 :: --name=writer "$GR" write-ro 1)"
}

write_cases() {
	local src EV=/img/integration/pv_events.img GR=/img/integration/pv_grants.img
	local SC=/img/integration/syscall.img
	echo "# Written by tests/kvm-nested.sh for the VM's /init: one check per case."
	echo
	if [[ ${KVM_NESTED_TR_FIX:-1} != 0 ]]; then
		echo "LD_PRELOAD=/lib/kvm_nested_tr.so"
		echo "export LD_PRELOAD"
		echo "echo $(q "kvm-nested: hv runs with kvm_nested_tr.so preloaded (task register type 9, for TCG's I/O bitmap check)")"
	else
		echo "echo $(q "kvm-nested: hv runs as it is (KVM_NESTED_TR_FIX=0): under TCG its hypercalls are #GP")"
	fi
	echo "echo; echo '== hello (backend kvm)'"
	emit_want stdout "Hello from the hello appliance!" 'argv[1] = "a"' 'argv[2] = "b c"' \
		"pi is about 3.14"
	emit_want stderr "stats: backend kvm"
	echo "check $(words "hello: output, exit 0, --stats says backend kvm" 0 hv --backend=kvm \
		--stats /img/apps/hello.img a "b c")"
	echo "clock_sane $(q "hello: its monotonic clock starts at its boot")"

	echo "echo; echo '== guest tests (backend kvm)'"
	for src in tests/guest/*.c; do guest_case "$src"; done

	echo "echo; echo '== two domains (backend kvm): tests/integration/domains.sh cases'"
	echo "want count:2 SUCCESS"
	dom_case "events: EVTCHNOP_SEND and the ring both ways, a blocked domain woken, mask, timer virq, close" 0 \
		"event from dom2 by EVTCHNOP_SEND, answered" "event from dom1 by EVTCHNOP_SEND" \
		"blocked with no deadline, woken by dom1" "masked port: pending without an upcall until UNMASK" \
		"timer virq: pending at the deadline, not after close" "hv: dom1 (A): exited with 0" \
		"hv: dom2 (B): exited with 0" "stats: event channels:" \
		-- --stats --name=A "$EV" serve 2 :: --name=B "$EV" connect 1
	echo "want count:2 SUCCESS"
	dom_case "grants: writable and read-only maps, in-use flags, refusals, copies, a race, the window full" 0 \
		"grantee: mapped ref 1 writable" "the grantee's write is in our page; ending access while mapped fails" \
		"unmapped: the in-use flags are clear and access ends" "a grant whose access ended cannot be mapped" \
		"every bad copy refused" "window full after 16384 maps" "all unmapped" \
		"stats: grants:" -- --stats "$GR" granter 2 :: "$GR" grantee 1
	dom_case "a domain that crashes ends alone: its peer sees its port unbound and exits 0" 80 \
		"crash: bound to dom1 port 1, now faulting" "hv: crash: guest fault: page fault (#PF)" \
		"survive: dom2 ended, our port 1 is unbound again; SUCCESS" \
		"hv: dom1 (survive): exited with 0" "hv: dom2 (crash): ended: guest fault (80)" \
		-- --name=survive "$EV" survive 2 :: --name=crash "$EV" crash 1
	dom_case "a write to a read-only grant ends that domain, naming the address and the grant" 81 \
		"hv: writer: write of 1 bytes at 0xd0000008 to a read-only grant: ref 2 of dom1, mapped read-only" \
		"granter: dom2 ended, its maps undone, access ended; SUCCESS" \
		"hv: dom1 (granter): exited with 0" "hv: dom2 (writer): ended: ABI violation (81)" \
		-- --name=granter "$GR" granter-simple 2 :: --name=writer "$GR" write-ro 1
	echo "fresh_disk; ( printf 'sector 0 of the grantee'\"'\"'s disk'; head -c 65536 /dev/zero ) | head -c 65536 >/tmp/disk/dma.img"
	dom_case "a disk reads into and writes from granted pages; a read into a read-only one is refused" 0 \
		"grantee: a disk read into a writable grant and a write from a read-only one" \
		"grantee: a disk read into a read-only grant refused; SUCCESS" \
		"granter: dom2's disk read landed in our page; SUCCESS" \
		"virtio-blk0 queue 0: descriptor 1: buffer [0xd0001000, +0x1000) is outside writable guest memory" \
		-- "$GR" granter-dma 2 :: --disk=/tmp/disk/dma.img "$GR" grantee-dma 1
	dom_case "a granter that exits leaves its page mapped for the grantee" 0 \
		"granter: exiting while dom2 has our page mapped" \
		"grantee: dom1 ended; its page stayed mapped and usable until we unmapped; SUCCESS" \
		-- "$GR" granter-exit 2 :: "$GR" grantee-outlive 1

	hostile_nested

	gdb_nested
	trace_nested

	echo "echo; echo '== a raw system call (backend kvm): tests/integration/sandbox.sh'"
	dom_case "sandbox: open is #UD on kvm, only its domain ends" 80 \
		"hv: bad: guest fault: invalid opcode (#UD), vector 6" "<main+" "hv: dom1 (bad): ended: guest fault (80)" \
		"hv: dom2 (peer): exited with 0" "SUCCESS: the peer ran to its end" \
		-- --name=bad "$SC" open :: --name=peer "$SC" none

	# hv's sandbox with the kvm backend: a bug in hv that opens a file, or makes an ioctl the
	# filter does not list, ends hv with 71, naming the call (tests/integration/hv_sandbox.sh).
	echo "echo; echo '== the sandbox of hv itself (backend kvm): tests/integration/hv_sandbox.sh'"
	local pre="/lib/hv_probe.so"
	[[ ${KVM_NESTED_TR_FIX:-1} == 0 ]] || pre="/lib/kvm_nested_tr.so /lib/hv_probe.so"
	for call in openat:257 ioctl:16; do
		emit_want stderr "hv: sandbox: system call ${call#*:}" "refused; hv stops"
		echo "check $(words "hv sandbox: ${call%%:*} from a thread of hv ends it (71, named)" 71 \
			env HV_PROBE="${call%%:*}" LD_PRELOAD="$pre" hv --backend=kvm \
			/img/integration/sleeper.img)"
	done
}
write_cases >"$R/cases.sh"

# No cpio on the host: the fetched busybox packs the archive (newc, every file root's).
(cd "$R" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) |
	gzip -1 >"$K/initrd.gz" || die 1 "packing the initramfs failed"

# --- the VM -------------------------------------------------------------------------------
opts=(
	# Software emulation with every CPU feature TCG has: an AMD CPU with SVM and nested
	# paging, which kvm-amd in the VM takes.
	-accel tcg -cpu max -m 2G -smp 1
	# Time in the VM is instructions executed (one nanosecond each), and jumps ahead while
	# the CPU sleeps: deadlines meant for hardware hold under emulation.
	-icount "shift=0,sleep=off"
	# Only the devices named here; the console (COM1) is this process's output.
	-nodefaults -no-user-config -nographic -serial stdio
	# A reboot (a kernel panic, with panic=-1) ends QEMU rather than booting again.
	-no-reboot
	-kernel "${kernels[0]}" -initrd "$K/initrd.gz"
	-append "console=ttyS0 quiet panic=-1"
)
echo "kvm-nested: booting $(basename "${kernels[0]}") with kvm-amd under QEMU TCG" \
	"(initramfs $(($(stat -c %s "$K/initrd.gz") / 1024)) KiB, at most $TIMEOUT s)"
start=$SECONDS
# The console, its carriage returns dropped, goes to the log whole; the result lines, their
# details, section headings and the VM's own lines are passed through as they come.
timeout "$TIMEOUT" "$QEMU" "${opts[@]}" </dev/null 2>&1 | tr -d '\r' | tee "$K/console.log" |
	grep --line-buffered -E '^(ok - |FAIL - |    |== |kvm-nested: |[0-9]+ passed, [0-9]+ failed$|$)'
codes=("${PIPESTATUS[@]}")
log=$K/console.log
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
echo "kvm-nested: the VM ran $((SECONDS - start)) s; its console is in $log"

if grep -q '^kvm-nested: no /dev/kvm' "$log"; then
	die 1 "/dev/kvm did not appear in the VM: kvm-amd did not bind (the lines above say why)"
fi
if [[ -z $summary ]]; then
	if ((codes[0] == 124)); then
		die 1 "the VM did not finish within $TIMEOUT s (KVM_NESTED_TIMEOUT)"
	fi
	tail -n 15 "$log" | sed 's/^/    console: /' >&2
	die 1 "the VM ended without a summary (QEMU exit code ${codes[0]}): a crash or a panic"
fi
read -r npassed _ nfailed _ <<<"$summary"
if ((nfailed > 0 || npassed == 0)); then
	die 1 "hv's kvm backend failed $nfailed of $((npassed + nfailed)) cases in the nested VM"
fi
echo "kvm-nested: hv's kvm backend passed all $npassed cases in the nested VM"
