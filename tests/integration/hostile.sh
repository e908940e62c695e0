# SPDX-License-Identifier: MIT
# The hostile-guest suite: guests that attack hv on purpose (tests/integration/guest/hostile.c
# and hostile_vq.c), each beside a bystander domain (guest/witness.c). For every case:
#   - hv survives and ends the hostile domain as the case says (its status, and for an
#     offence hv's message naming it), or the domain sees every attack refused and exits 0;
#   - the witness is unharmed: it worked throughout (its slowest round is printed) and found
#     its memory, its granted page, its store key and its disk as it left them;
#   - nothing was written outside the hostile domain's own memory and disk: the witness's
#     disk holds exactly what a witness alone writes, the hostile domain's disk (unless it
#     was meant to write there) and a canary file beside it are unchanged, no file appeared,
#     and hv's own pages of each domain's memory read as before the domain ran (hv checks
#     them at every domain's end, area.c, and would end with 70 naming the page).
# Sourced by tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

HOS=$B/tests/integration/hostile.img
HVQ=$B/tests/integration/hostile_vq.img
WIT=$B/tests/integration/witness.img
HD=$TMP/hostile
mkdir -p "$HD"
hostile_cases=0
hostile_refused=0
hostile_ended=()

# The disk a witness leaves when nothing disturbs it: run it alone (dom9 does not exist).
head -c 1048576 /dev/zero >"$HD/ref.disk"
timeout 60 "$HV" --disk="$HD/ref.disk" "$WIT" 9 >"$HD/ref.out" 2>&1
expect "hostile: the witness alone writes its disk and checks itself" $? 0 "$HD/ref.out" \
	"witness: " "SUCCESS"
witness_disk=$(sha256sum <"$HD/ref.disk")
# The hostile domain's own disk: bytes that are not zero, so a stray write shows.
head -c 1048576 /dev/urandom >"$HD/hostile.disk.orig"
images_before=$(sha256sum "$HOS" "$HVQ" "$WIT")

# A directory listing with each file's size and digest.
hostile_state() { (cd "$1" && find . -type f | sort | xargs sha256sum); }

# hostile_case NAME WANT_STATUS MESSAGE [LINE...] -- HV_OPTIONS IMAGE ARGS...: run the hostile
# domain (dom1, named hostile) with the witness (dom2). MESSAGE is hv's line about dom1 after
# "hv: hostile: " (- if none); each LINE must appear too. @DISK@ in the options is the hostile
# domain's disk, @DISK_RO@ the same read-only.
hostile_case() {
	local name=$1 want=$2 msg=$3 lines=() dir status problems=() before after
	shift 3
	while [[ $1 != -- ]]; do lines+=("$1"); shift; done
	shift
	dir=$HD/case
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$HD/hostile.disk.orig" "$dir/hostile.disk"
	head -c 1048576 /dev/zero >"$dir/witness.disk"
	echo "nothing may write here" >"$dir/canary"
	before=$(cd "$dir" && sha256sum hostile.disk canary)
	local args=("${@//@DISK@/$dir/hostile.disk}")
	args=("${args[@]//@DISK_RO@/$dir/hostile.disk,ro}")
	timeout 120 "$HV" --name=hostile "${args[@]}" \
		:: --name=witness --disk="$dir/witness.disk" "$WIT" 1 >"$HD/out" 2>&1
	status=$?
	hostile_cases=$((hostile_cases + 1))
	[[ $status == "$want" ]] || problems+=("hv's exit status $status, expected $want")
	[[ $msg == - ]] || grep -qxF -- "hv: hostile: $msg" "$HD/out" ||
		problems+=("no line: hv: hostile: $msg")
	for l in "${lines[@]}" "hv: dom2 (witness): exited with 0"; do
		grep -qF -- "$l" "$HD/out" || problems+=("output lacks: $l")
	done
	grep -q '^witness: .* intact; SUCCESS$' "$HD/out" || problems+=("the witness did not succeed")
	! grep -qE "a bug in hv|^hv: sandbox:" "$HD/out" || problems+=("hv reported a fault of its own")
	[[ $(sha256sum <"$dir/witness.disk") == "$witness_disk" ]] ||
		problems+=("the witness's disk differs from a witness alone's")
	after=$(cd "$dir" && sha256sum hostile.disk canary)
	[[ $after == "$before" ]] || problems+=("the hostile disk or the canary changed")
	[[ $(ls "$dir") == $'canary\nhostile.disk\nwitness.disk' ]] ||
		problems+=("files appeared: $(ls "$dir" | tr '\n' ' ')")
	if ((${#problems[@]})); then
		not_ok "hostile: $name"
		printf '    %s\n' "${problems[@]}"
		grep -v '^#*$' "$HD/out" | cut -c1-200 | sed 's/^/    output: /' | head -n 20
		return
	fi
	if ((status == 0)); then
		hostile_refused=$((hostile_refused + 1))
		ok "hostile: $name: the domain exited 0; hv and the witness unharmed"
	else
		hostile_ended+=("$status")
		ok "hostile: $name: hv ended the domain ($status); the witness unharmed"
	fi
	HOSTILE_SLOWEST=$(sed -n 's/^witness: .* the slowest \([0-9]*\) us.*/\1/p' "$HD/out")
	HOSTILE_ROUNDS=$(sed -n 's/^witness: \([0-9]*\) rounds .*/\1/p' "$HD/out")
}

# --- every hypercall with its argument block at a bad address ------------------------------
call_names=(console_write exit wallclock block evtchn_op gnttab_op store)
for call in "${!call_names[@]}"; do
	for kind in outside unaligned hv-area read-only straddle end wrap page0; do
		cname=${call_names[call]}
		# The domain prints the address it uses before the call; hv must name that one.
		timeout 60 "$HV" "$HOS" block "$kind" "$call" >"$HD/probe" 2>&1
		gpa=$(sed -n 's/^hostile: .* argument block at \(0x[0-9a-f]*\) .*/\1/p' "$HD/probe")
		why="is outside guest memory"
		[[ $kind == unaligned ]] && why="is not 8-byte aligned"
		hostile_case "$cname, argument block $kind ($gpa)" 81 \
			"$cname: argument block at $gpa $why" -- "$HOS" block "$kind" "$call"
	done
done

# --- call numbers and ports ----------------------------------------------------------------
hostile_case "hypercall 7, the first unknown" 81 "unknown hypercall 7" -- "$HOS" unknown-call 7
hostile_case "hypercall 63, the last port" 81 "unknown hypercall 63" -- "$HOS" unknown-call 63
hostile_case "a port between two hypercalls" 81 "I/O to port 0x50a, which is not a hypercall" \
	-- "$HOS" port between
hostile_case "in from a hypercall port" 81 \
	"hypercall port 0x508 used with in of size 4, count 1 (want one 32-bit out)" -- "$HOS" port in
hostile_case "a port past hv's (closed in the TSS bitmap)" 80 - \
	"general protection fault (#GP)" -- "$HOS" port closed
hostile_case "hv's fault-report port" 80 - "general protection fault (#GP)" -- "$HOS" port fault
# rep outs: KVM reports it whole (count 2) or an out at a time (each a call, its block in hv's
# IDT page): 81 either way. proc's decoder takes no string I/O: a #GP.
if [[ ${HV_BACKEND:-} == kvm ]]; then
	hostile_case "rep outsl to a hypercall port" 81 - "hv: dom1 (hostile): ended: ABI violation (81)" \
		-- "$HOS" port rep
else
	hostile_case "rep outsl to a hypercall port" 80 - "general protection fault (#GP)" \
		-- "$HOS" port rep
fi

# --- each call's own pointers, lengths and values ------------------------------------------
for kind in outside hv-area straddle-end huge-len wrap grant-window device-window; do
	timeout 60 "$HV" "$HOS" console "$kind" >"$HD/probe" 2>&1
	range=$(sed -n 's/^hostile: console_write of \(\[.*)\)$/\1/p' "$HD/probe")
	hostile_case "console_write, buffer $kind $range" 81 \
		"console_write: buffer $range is outside guest memory" -- "$HOS" console "$kind"
done
hostile_case "console_write and block at their edges" 0 - \
	"hostile: empty and read-only buffers, past deadlines: served; SUCCESS" -- "$HOS" calls-edge
hostile_case "exit with 0x7fffff2a: the low byte" 42 - "hv: dom1 (hostile): exited with 42" \
	-- "$HOS" exit-status
hostile_case "block with nothing that could wake it" 82 \
	"guest blocked with no deadline and nothing that could wake it" -- "$HOS" block-forever
hostile_case "event channels: bad ports, commands, virqs, domains; dom2's ports" 0 - \
	"refused as documented; SUCCESS" -- "$HOS" evtchn
hostile_case "grants: bad tables, frames, refs, handles, domains, copies; dom2's grant" 0 - \
	"hostile: bad tables, frames, refs, handles, domains and copies refused; SUCCESS" \
	-- "$HOS" grant
hostile_case "a write through a read-only map of dom2's page" 81 \
	"write of 1 bytes at 0xd0000008 to a read-only grant: ref 3 of dom2, mapped read-only (handle 0)" \
	-- "$HOS" grant-ro-write
hostile_case "the store: bad keys, buffers, lengths, transactions; dom2's keys" 0 - \
	"transactions and dom2's keys refused; SUCCESS" -- "$HOS" store

# --- virtqueues and devices ----------------------------------------------------------------
hostile_case "virtqueue: a read into the boot info" 0 \
	"virtio-blk0 queue 0: descriptor 1: buffer [0xfb000, +0x200) is outside writable guest memory" \
	"boot info unchanged; SUCCESS" -- --disk=@DISK@ "$HVQ" vq boot-info
hostile_case "virtqueue: a disk write from hv's GDT page" 0 \
	"virtio-blk0 queue 0: descriptor 1: buffer [0x1000, +0x200) is outside guest memory" \
	"SUCCESS" -- --disk=@DISK@ "$HVQ" vq hv-area
hostile_case "virtqueue: an available index moved backwards" 0 \
	"virtio-blk0 queue 0: available index 0 is 65535 entries ahead of 1, more than the queue size 8" \
	"SUCCESS" -- --disk=@DISK@ "$HVQ" vq backwards
hostile_case "virtqueue: a 256-descriptor chain, then a 256-descriptor loop" 0 \
	"virtio-blk0 queue 0: chain from descriptor 0 is longer than the queue size 256 (a loop)" \
	"a chain of 256 descriptors (254 data sectors) served" -- --disk=@DISK@ "$HVQ" vq huge-chain
hostile_case "virtqueue: the three rings on one page" 0 - \
	"then a reset mended it" -- --disk=@DISK@ "$HVQ" vq overlap
hostile_case "virtqueue: an indirect descriptor" 0 \
	"virtio-blk0 queue 0: descriptor 1 is indirect, which hv does not offer" "SUCCESS" \
	-- --disk=@DISK@ "$HVQ" vq indirect
hostile_case "virtqueue: the used ring in the read-only boot info" 0 \
	"virtio-blk0 queue 0: device area [0xfb000, +0x46) is outside writable guest memory" \
	"SUCCESS" -- --disk=@DISK@ "$HVQ" vq used-readonly
hostile_case "virtqueue: the descriptor table in the device windows" 0 \
	"virtio-blk0 queue 0: descriptor table [0xc0000000, +0x80) is outside guest memory" \
	"SUCCESS" -- --disk=@DISK@ "$HVQ" vq desc-window
hostile_case "virtqueue: sizes 0, 3, 512, 2^32-1" 0 \
	"virtio-blk0 queue 0: queue size 3 is not a power of two from 1 to 256" \
	"queue size 512 is not a power of two" "queue size 0 is not a power of two" "SUCCESS" \
	-- --disk=@DISK@ "$HVQ" vq size
hostile_case "block: sectors at and past the end, part sectors, an unknown type" 0 - \
	"each failed alone; SUCCESS" -- --disk=@DISK@ "$HVQ" blk range
hostile_case "block: writes to a read-only disk" 0 - \
	"writes to a read-only disk failed, reads and flushes served; SUCCESS" \
	-- --disk=@DISK_RO@ "$HVQ" blk ro
hostile_case "registers: 1100 accesses of every wrong kind, reported 8 times" 0 \
	"virtio-blk0: notify of queue 65535, which does not exist, ignored (further ones are not reported)" \
	"the device serves after a reset; SUCCESS" -- --disk=@DISK@ "$HVQ" mmio
[[ $(grep -c '^hv: hostile: virtio-blk0: ' "$HD/out") == 8 ]] ||
	not_ok "hostile: registers: hv reported $(grep -c '^hv: hostile: virtio-blk0: ' "$HD/out") bad accesses, not 8"
hostile_case "network: receive buffers in the boot info" 0 \
	"virtio-net1 queue 0: descriptor 0: buffer [0xfb000, +0x5f6) is outside writable guest memory" \
	"SUCCESS" -- --net=switch:hostile --net=switch:hostile "$HVQ" net rx-readonly
hostile_case "network: a 512 KiB frame" 0 - \
	"tx 1 packets 0 bytes (1 dropped)" "hostile: a 512 KiB frame: used and dropped" \
	-- --stats --net=switch:hostile --net=switch:hostile "$HVQ" net tx-huge

# --- storms: a second of calls as fast as the domain can make them -------------------------
storm_figures=()
for kind in hypercall block evtchn ring doorbell store grant console; do
	# The console's storm outruns its budget, and with it the domain's last line.
	if [[ $kind == console ]]; then
		hostile_case "storm: a second of console writes, 4 KiB each" 0 - \
			"hv: dom1 (hostile): exited with 0" \
			-- --console-max=256K "$HOS" storm "$kind" 1000
		calls="(uncounted)"
	else
		hostile_case "storm: a second of $kind calls" 0 - "calls in 1000 ms; SUCCESS" \
			-- "$HOS" storm "$kind" 1000
		calls=$(sed -n 's/^hostile: \([0-9]*\) .* calls in 1000 ms; SUCCESS$/\1/p' "$HD/out")
	fi
	storm_figures+=("$kind: $calls calls; the witness ran ${HOSTILE_ROUNDS:-?} rounds meanwhile, the slowest ${HOSTILE_SLOWEST:-?} us")
	# A round is a 1 ms sleep and a few checks: about 700 fit in the storm's second here,
	# alone or not. A witness held up for a second, or that ran 100 rounds, was starved.
	((${HOSTILE_SLOWEST:-99999999} < 1000000 && ${HOSTILE_ROUNDS:-0} >= 100)) ||
		not_ok "hostile: storm $kind: the witness ran ${HOSTILE_ROUNDS:-?} rounds, the slowest ${HOSTILE_SLOWEST:-?} us"
done
# The last storm was the console's: hv said once that it drops, and dropped.
grep -q "console output reached --console-max (262144 bytes); more is dropped" "$HD/out" ||
	not_ok "hostile: console storm: hv did not say it dropped output"
(($(stat -c %s "$HD/out") < 262144 + 65536)) ||
	not_ok "hostile: console storm: hv's output grew past --console-max"

[[ $(sha256sum "$HOS" "$HVQ" "$WIT") == "$images_before" ]] ||
	not_ok "hostile: the images changed on disk"
printf '    measured: %s\n' "${storm_figures[@]}"
# How each case ended, by status: 0 the domain saw every attack answered and exited; 42 its
# own exit; 80, 81, 82 hv ended it (a fault, an ABI violation, a crash).
printf '    measured: %d hostile cases, by how the hostile domain ended: %s\n' "$hostile_cases" \
	"$(printf '%s\n' 0 "${hostile_ended[@]}" | sort -n | uniq -c |
		awk -v z="$hostile_refused" '{n = $2 == 0 ? z : $1; printf "%s%d with %s", sep, n, $2; sep = ", "}')"
