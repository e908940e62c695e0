# SPDX-License-Identifier: MIT
# hv's GDB stub (--gdb=PORT, hv-iface/hv/gdb.c) driven by Debian's gdb in batch mode: a
# breakpoint in main is hit, variables are read and written, a step advances a line and an
# instruction, the run ends with the guest's status; a Ctrl-C stops a guest blocked in hv and
# gdb kills it; a fault stops in gdb before hv ends the domain with its report; detach lets
# the guest run on; a stopped domain does not stop another; bad ports are refused. Sourced by
# tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

GD=$TMP/gdb
mkdir -p "$GD"

# gdb_case NAME WANT_HV_STATUS SUBSTRINGS... -- HV_ARGS... -- GDB_COMMANDS...: hv with --gdb=0
# (a free port, read from its line), gdb attached with the image's symbols, the commands run in
# batch mode; the substrings are looked for in gdb's and hv's output together.
gdb_case() {
	local name=$1 want=$2 subs=() hv_args=() cmds=() port status image
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	while [[ $1 != -- ]]; do hv_args+=("$1"); shift; done
	shift
	for c; do cmds+=(-ex "$c"); done
	# The image gdb reads symbols from: the domain's, the first .img of hv's arguments.
	for image in "${hv_args[@]}"; do [[ $image == *.img ]] && break; done
	timeout 60 "$HV" "${hv_args[@]}" >"$GD/hv.out" 2>&1 &
	local pid=$!
	wait_line "$GD/hv.out" 'waiting for gdb on' "$pid" 10
	port=$(sed -n 's/.*waiting for gdb on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$GD/hv.out" | head -n1)
	if [[ -z $port ]]; then
		not_ok "gdb: $name: hv did not say where it waits"
		sed 's/^/    hv: /' "$GD/hv.out" | head -n 10
		kill "$pid" 2>/dev/null
		wait "$pid"
		return
	fi
	timeout 60 gdb -batch -nx -ex "set pagination off" -ex "target remote :$port" \
		"${cmds[@]}" "$image" >"$GD/gdb.out" 2>&1
	wait "$pid"
	status=$?
	cat "$GD/gdb.out" "$GD/hv.out" >"$GD/out"
	expect "gdb: $name" "$status" "$want" "$GD/out" "${subs[@]}"
}

if ! command -v gdb >/dev/null; then
	not_ok "gdb: Debian's gdb is missing (make deps installs it)"
	return 0
fi
HELLO=$B/apps/hello.img
SLEEPER=$B/tests/integration/sleeper.img
cat >"$GD/interrupt.py" <<'EOF'
import threading, gdb
threading.Timer(1.0, lambda: gdb.post_event(lambda: gdb.execute("interrupt"))).start()
EOF

gdb_case "a breakpoint in main, its arguments read, a step to the next line, the run to its end" 0 \
	"Breakpoint 1, main (argc=3, argv=" "at apps/hello/hello.c:20" '$1 = 3' '$2 = 0x' '"one"' \
	"21		for (int i = 0; i < argc; i++)" "[Inferior 1 (Remote target) exited normally]" \
	"argv[1] = \"one\"" "hv: $HELLO: gdb connected" \
	-- --gdb=0 "$HELLO" one two -- "break main" "continue" "print argc" "print argv[1]" \
	"next" "continue"
gdb_case "the stop before the first instruction is at the image's entry" 0 \
	"_start () at platforms/kvm/hv_entry.S" "exited normally" \
	-- --gdb=0 "$HELLO" -- "continue"
gdb_case "stepi advances one instruction; registers read and written" 0 \
	"pc moved by an instruction: 1" '= 4660' "exited normally" \
	-- --gdb=0 "$HELLO" -- "break main" "continue" 'set $a = $pc' "stepi" \
	'printf "pc moved by an instruction: %d\n", $pc > $a && $pc - $a < 16' 'set $rax = 0x1234' \
	'print $rax' "continue"
gdb_case "a variable written from gdb changes what the guest prints" 0 \
	'argv[1] = "b"' "exited normally" \
	-- --gdb=0 "$HELLO" a -- "break main" "continue" "set var argv[1][0] = 'b'" "continue"
gdb_case "memory under a breakpoint reads as the program's own bytes" 0 \
	"same bytes: 1" "exited normally" \
	-- --gdb=0 "$HELLO" -- 'set $before = *(unsigned char *)main' "break main" "continue" \
	'printf "same bytes: %d\n", *(unsigned char *)main == $before' "continue"
gdb_case "Ctrl-C stops a guest blocked in hv; gdb kills it" 137 \
	"Program received signal SIGINT, Interrupt." "hv_block (deadline_ns=" "schedule () at libos/kernel/thread.c" \
	"[Inferior 1 (Remote target) killed]" "hv: $SLEEPER: killed from gdb" \
	-- --gdb=0 "$SLEEPER" -- "source $GD/interrupt.py" "continue" "bt" "kill"
gdb_case "a fault stops in gdb, then hv ends the domain with its report" 80 \
	"Program received signal SIGSEGV, Segmentation fault." "at tests/guest/null_deref.c:" \
	"guest fault: page fault (#PF)" \
	-- --gdb=0 "$B/tests/guest/null_deref.img" -- "continue" "bt 1" "continue"
gdb_case "detach: the guest runs on to its end without gdb" 0 \
	"hv: $HELLO: gdb detached; the guest runs on" "monotonic time since boot:" \
	-- --gdb=0 "$HELLO" -- "break main" "continue" "detach"
gdb_case "a domain stopped in gdb does not stop another" 137 \
	"Program received signal SIGINT" "sleeper: sleeping" "Hello from the hello appliance!" \
	"hv: dom2 (hello.img): exited with 0" "hv: dom1 (sleeper.img): ended: stopped by signal 9 (137)" \
	-- --gdb=0 "$SLEEPER" :: "$HELLO" -- "source $GD/interrupt.py" "continue" "kill"

timeout 10 "$HV" --gdb=70000 "$HELLO" >"$GD/out" 2>&1
expect "gdb: --gdb=70000 is refused" $? 64 "$GD/out" "--gdb=70000: not a TCP port"
timeout 10 "$HV" --gdb=x "$HELLO" >"$GD/out" 2>&1
expect "gdb: --gdb=x is refused" $? 64 "$GD/out" "--gdb=x: not a TCP port"
# A port that is taken: hv says so and ends before the guest runs.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(20)' >"$GD/port" &
holder=$!
wait_line "$GD/port" '^[0-9]+$' "$holder" 5
timeout 10 "$HV" --gdb="$(cat "$GD/port")" "$HELLO" >"$GD/out" 2>&1
expect "gdb: a port in use is refused" $? 69 "$GD/out" "cannot listen on 127.0.0.1:$(cat "$GD/port"): Address already in use"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
