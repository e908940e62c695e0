# SPDX-License-Identifier: MIT
# hv --trace: the lines of a guest's exits and hypercalls, its devices and the send ring, to
# stderr and to a file. Each case checks exact lines (a console write with its length and
# result, the exit call, an unknown call and the domain's end, a fault, decoded register
# accesses, disk requests, grants and event channels of two domains), that every line has the
# trace's shape, and that without --trace hv's output is what it was. Sourced by tests/run.sh
# (B, HV, TMP and the helpers of tests/lib.sh are set).

TR=$TMP/trace
mkdir -p "$TR"
HELLO=$B/apps/hello.img
G=$B/tests/guest
EV=$B/tests/integration/pv_events.img
GR=$B/tests/integration/pv_grants.img

# A trace line: microseconds since hv started, dom<id>:<label>, who, the kind, its details.
LINE='^[0-9]+\.[0-9]{3}us dom[0-9]+:[!-~]+ (vcpu0|ring|virtio-(blk|net)[0-9]+) (start|end|hypercall|io|mmio|fault|syscall|shutdown|intr|backend|doorbell|event|request|send)( .*)?$'

# trace_case NAME WANT_STATUS WHERE REGEX... -- HV_ARGS...: run hv (stdout, stderr apart);
# WHERE is stderr or the trace file. Checks the status, that each REGEX (grep -E) matches a
# trace line, and that every line there is a trace line (or, on stderr, one of hv's own).
trace_case() {
	local name=$1 want=$2 where=$3 res=() re status problems=() bad
	shift 3
	while [[ $1 != -- ]]; do res+=("$1"); shift; done
	shift
	rm -f "$TR/out" "$TR/err"
	timeout 30 "$HV" "$@" >"$TR/out" 2>"$TR/err"
	status=$?
	[[ $where == stderr ]] && where=$TR/err
	grep -E "$LINE" "$where" >"$TR/lines" 2>/dev/null
	[[ $status == "$want" ]] || problems+=("exit status $status, expected $want")
	[[ -s $TR/lines ]] || problems+=("no trace lines in $where")
	for re in "${res[@]}"; do
		grep -qE -- "$re" "$TR/lines" || problems+=("no line matches: $re")
	done
	bad=$(grep -vE "$LINE" "$where" 2>/dev/null | grep -v '^hv: ' | head -n 3)
	[[ -z $bad ]] || problems+=("lines that are not trace lines: $bad")
	if ((${#problems[@]} == 0)); then ok "$name ($(wc -l <"$TR/lines") lines)"; else
		not_ok "$name"
		printf '    %s\n' "${problems[@]}"
		sed 's/^/    trace: /' "$TR/lines" | tail -n 15
		sed 's/^/    stderr: /' "$TR/err" | grep -vE "$LINE" | head -n 10
	fi
}

V='vcpu0'
hv_has --trace || not_ok "hv --help names --trace"

trace_case "hello: start, each console write with its text, length and result, the exit, the end" 0 stderr \
	"dom1:hello\.img $V start backend=$HV_BACKEND mem=32M entry=0x[0-9a-f]+ devices=none$" \
	"dom1:hello\.img $V hypercall console_write buf=0x[0-9a-f]+ len=32 \"Hello from the hello app\"\.\.\. -> 32$" \
	"$V hypercall console_write buf=0x[0-9a-f]+ len=14 \"argv\[1\] = \\\\\"a\\\\\"\\\\n\" -> 14$" \
	"$V hypercall exit status=0 -> exited with 0$" \
	"$V end exits=[0-9]+ guest=[0-9.]+ms blocked=[0-9.]+ms -> exited with 0$" \
	-- --trace "$HELLO" a
grep -q '^Hello from the hello appliance!$' "$TR/out" && ! grep -qE "$LINE" "$TR/out" ||
	not_ok "hello: the guest's console is on stdout, no trace line there"
# One vCPU, nothing else: its lines come in the order of their times.
awk '{ t = $1 + 0; if (t < last) bad = 1; last = t } END { exit bad }' "$TR/lines" ||
	not_ok "hello: the vCPU's lines are in time order"

# Output unchanged: a fault report's lines, alone and with either kind of trace.
timeout 20 "$HV" "$G/write_text.img" >"$TR/plain.out" 2>"$TR/plain.err"
plain=$?
trace_case "a write to the image's code: the fault with its vector, error code, rip and cr2" 80 stderr \
	"$V fault #PF vector=14 error=0x[0-9a-f]+ rip=0x[0-9a-f]+ cr2=0x[0-9a-f]+ -> ended: guest fault \(80\)$" \
	"$V end exits=[0-9]+ .* -> ended: guest fault \(80\)$" \
	-- --trace "$G/write_text.img"
if [[ $plain == 80 ]] && grep -qF "page fault (#PF)" "$TR/plain.err" &&
	! grep -qE "$LINE" "$TR/plain.err" && cmp -s "$TR/plain.out" "$TR/out" &&
	diff <(grep -vE "$LINE" "$TR/err") "$TR/plain.err" >/dev/null; then
	ok "without --trace: no trace line; with it, the same output besides the trace lines"
else
	not_ok "without --trace: no trace line; with it, the same output besides the trace lines"
	diff <(grep -vE "$LINE" "$TR/err") "$TR/plain.err" | head -n 10 | sed 's/^/    /'
fi
trace_case "--trace=FILE: the lines in the file, stdout and stderr as without it" 80 "$TR/t.log" \
	"dom1:write_text\.img $V fault #PF vector=14 " \
	-- --trace="$TR/t.log" "$G/write_text.img"
cmp -s "$TR/plain.err" "$TR/err" && cmp -s "$TR/plain.out" "$TR/out" ||
	not_ok "--trace=FILE: stdout and stderr are as without --trace"

trace_case "an unknown hypercall: its number, its block, the domain's end" 81 stderr \
	"dom1:unknown_call\.img $V hypercall #63 block=0x[0-9a-f]+ -> ended: ABI violation \(81\)$" \
	"$V end exits=[0-9]+ .* -> ended: ABI violation \(81\)$" \
	-- --trace "$G/unknown_call.img"
trace_case "a console write outside memory ends the domain, named on its line" 81 stderr \
	"$V hypercall console_write buf=0xfff00000 len=16 -> ended: ABI violation \(81\)$" \
	-- --trace "$G/bad_buffer.img"
# libos on proc waits by a futex hv does not see; --no-linux-calls makes each a hypercall.
trace_case "blocks: each deadline and how it ended" 0 stderr \
	"$V hypercall block deadline=\+[0-9]+\.[0-9]{3}ms -> DEADLINE after [0-9]+\.[0-9]{3}ms$" \
	-- --trace --no-linux-calls "$G/sleep.img"

# A disk driven by hand through its registers (the image has no virtio-blk driver of its own,
# so every access is the test's: its queue has TEST_QSIZE, 8, entries): the accesses decoded,
# the requests served.
rm -rf "$TR/disk" && mkdir "$TR/disk" && head -c 1048576 /dev/zero >"$TR/disk/disk.img"
B0="$V mmio virtio-blk0"
trace_case "a disk: register accesses by name, requests, doorbells, events, blocks" 0 "$TR/blk.log" \
	"dom1:blk_roundtrip\.img $V start backend=$HV_BACKEND mem=32M entry=0x[0-9a-f]+ devices=virtio-blk0$" \
	"$B0 read MAGIC_VALUE -> 0x74726976$" "$B0 read DEVICE_ID -> 2$" "$B0 write QUEUE_SEL=0$" \
	"$B0 write QUEUE_NUM=8$" "$B0 write QUEUE_DESC_LOW=0x[0-9a-f]+$" "$B0 read config\+0x0 len=8 -> 0x800$" \
	"$B0 write STATUS=0xf\(ACKNOWLEDGE\|DRIVER\|DRIVER_OK\|FEATURES_OK\) -> 0xf\(ACKNOWLEDGE\|DRIVER\|DRIVER_OK\|FEATURES_OK\)$" \
	"$B0 write STATUS=0xb\(ACKNOWLEDGE\|DRIVER\|FEATURES_OK\) -> 0x3\(ACKNOWLEDGE\|DRIVER\)$" \
	"virtio-blk0 doorbell q0 kicks=[0-9]+$" \
	"virtio-blk0 request q0 head=[0-9]+ OUT sector=10 len=1536 -> OK after [0-9.]+ms$" \
	"virtio-blk0 request q0 head=[0-9]+ FLUSH -> OK after " \
	"virtio-blk0 request q0 head=[0-9]+ IN sector=2047 len=1024 -> IOERR after " \
	"virtio-blk0 request q0 head=[0-9]+ type=99 -> UNSUPP after " \
	"virtio-blk0 event q0 port=1 -> pending" \
	"$V hypercall block deadline=\+[0-9.]+ms -> EVENT after [0-9.]+ms pending=1$" \
	-- --trace="$TR/blk.log" --disk="$TR/disk/disk.img" "$G/blk_roundtrip.img"
[[ $(grep -c ' request q0 ' "$TR/lines") == 209 ]] ||
	not_ok "a disk: one request line for each of the 209 requests (saw $(grep -c ' request q0 ' "$TR/lines"))"

# Two domains: both in one trace, their lines whole though several threads write at once.
trace_case "two domains: a read-only grant mapped, the write to it ending its domain" 81 stderr \
	"dom1:granter $V hypercall gnttab_op SETUP_TABLE table=0x[0-9a-f]+ entries=64 -> GNTST_okay$" \
	"dom2:writer $V hypercall gnttab_op MAP dom=1 ref=2 flags=ro -> GNTST_okay addr=0xd0000000 handle=0$" \
	"dom2:writer $V mmio grant-window write 0xd0000008 len=1 value=0x[0-9a-f]+ -> ended: ABI violation \(81\)$" \
	"dom2:writer $V end .* -> ended: ABI violation \(81\)$" "dom1:granter $V end .* -> exited with 0$" \
	-- --trace --name=granter "$GR" granter-simple 2 :: --name=writer "$GR" write-ro 1
trace_case "two domains: event channels, the store, the send ring, errors by name" 0 "$TR/ev.log" \
	"dom1:A $V hypercall evtchn_op ALLOC_UNBOUND dom=SELF remote_dom=2 -> 0 port=1$" \
	"dom1:A $V hypercall store WRITE key=\"/local/domain/1/port\" len=1 \"1\" -> 0$" \
	"dom2:B $V hypercall store READ key=\"/local/domain/1/port\" len=[0-9]+ -> 0 len=1 \"1\"$" \
	"dom2:B $V hypercall evtchn_op BIND_INTERDOMAIN remote_dom=1 remote_port=1 -> 0 port=1$" \
	"dom2:B (vcpu0|ring) send port=1 -> 0" \
	"dom1:A $V hypercall evtchn_op STATUS dom=SELF port=1 -> 0 status=INTERDOMAIN remote_dom=2 remote_port=1$" \
	"dom1:A $V hypercall evtchn_op ALLOC_UNBOUND dom=SELF remote_dom=2 -> -ESRCH$" \
	"dom2:B $V end .* -> exited with 0$" "dom1:A $V end .* -> exited with 0$" \
	-- --trace="$TR/ev.log" --name=A "$EV" survive 2 :: --name=B "$EV" ring-exit 1

printf '%s\n' "--trace=$TR/conf.log --name=conf $HELLO" >"$TR/trace.conf"
trace_case "--trace=FILE in a config file" 0 "$TR/conf.log" \
	"dom1:conf $V hypercall exit status=0 -> exited with 0$" -- --config="$TR/trace.conf"
timeout 20 "$HV" --trace="$TR/no/such/dir/t.log" "$HELLO" >"$TR/out" 2>&1
expect "--trace=FILE that cannot be created: 73, named" $? 73 "$TR/out" \
	"hv: --trace=$TR/no/such/dir/t.log: No such file or directory"
timeout 20 "$HV" --trace= "$HELLO" >"$TR/out" 2>&1
expect "--trace= with no file: 64" $? 64 "$TR/out" "--trace=: no file named"
