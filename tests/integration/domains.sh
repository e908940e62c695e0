# SPDX-License-Identifier: MIT
# Several domains in one hv: the command line ("::", --name, --config), event channels through
# the send ring and EVTCHNOP_SEND, the timer virq, grants, the store, what a hostile domain is
# refused, a domain that crashes or breaks the ABI while its peer runs on, the exit status rule
# and the summary lines, stop signals. The guests (tests/integration/guest/pv_*.c) make every
# call by hand. Sourced by tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

EV=$B/tests/integration/pv_events.img
GR=$B/tests/integration/pv_grants.img
HO=$B/tests/integration/pv_hostile.img
DOM=$TMP/domains
mkdir -p "$DOM"

# dom_case NAME WANT_STATUS SUBSTRINGS... -- HV_ARGS...: run hv, check status and its output.
dom_case() {
	local name=$1 want=$2 subs=() status
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	timeout 60 "$HV" "$@" >"$DOM/out" 2>&1
	status=$?
	expect "$name" "$status" "$want" "$DOM/out" "${subs[@]}"
}

# The lines of hv's output that carry a measurement, shown after a test (numbers, not a result).
measured() { grep -E "$1" "$DOM/out" | sed 's/^/    measured: /'; }

dom_case "events: EVTCHNOP_SEND and the ring both ways, a blocked domain woken, mask, timer virq, close" 0 \
	"event from dom2 by EVTCHNOP_SEND, answered" "event from dom1 by EVTCHNOP_SEND" \
	"blocked with no deadline, woken by dom1" "masked port: pending without an upcall until UNMASK" \
	"timer virq: pending at the deadline, not after close" "hv: dom1 (A): exited with 0" \
	"hv: dom2 (B): exited with 0" "stats: event channels:" \
	-- --stats --name=A "$EV" serve 2 :: --name=B "$EV" connect 1
[[ $(grep -c '^SUCCESS$' "$DOM/out") == 2 ]] || not_ok "events: both domains print SUCCESS"
measured "round trip|send cost"

dom_case "grants: writable and read-only maps, in-use flags, refusals, copies, a race, the window full" 0 \
	"grantee: mapped ref 1 writable" "the grantee's write is in our page; ending access while mapped fails" \
	"unmapped: the in-use flags are clear and access ends" "a grant whose access ended cannot be mapped" \
	"every bad copy refused" "window full after 16384 maps" "all unmapped" \
	"stats: grants:" -- --stats "$GR" granter 2 :: "$GR" grantee 1
[[ $(grep -c '^SUCCESS$' "$DOM/out") == 2 ]] || not_ok "grants: both domains print SUCCESS"
measured "race:|map\+unmap pair|window full|all unmapped"

head -c 1048576 /dev/zero >"$DOM/disk.img"
dom_case "hostile: bad ports, device ports, ring drops, port exhaustion, the store's rules" 0 \
	"SUCCESS" "ports: 4094 allocated, then -ENOSPC" \
	"hv: lonely: send ring: port 77 is not an interdomain port of this domain, dropped" \
	"(further ones are counted, not reported)" "4 dropped" \
	-- --stats --name=lonely --disk="$DOM/disk.img" "$HO" alone
dom_case "hostile: three domains: foreign ports, binds of another's port, keys of another" 0 \
	"thief: foreign ports, binds, status, allocations and keys refused; SUCCESS" \
	"third: bound the port offered to us; SUCCESS" \
	-- "$HO" owner 2 3 :: "$HO" thief 1 3 :: "$HO" third 1 2

dom_case "a send ring's prod beyond one ring of hv's cons ends that domain" 81 \
	"hv: liar: send ring: prod 1000 is 1000 entries past cons 0 (the ring has 512)" \
	"hv: dom2 (liar): ended: ABI violation (81)" "hv: dom1 (pv_events.img): exited with 0" \
	-- "$EV" exit 0 :: --name=liar "$HO" ring-lie
dom_case "a domain that crashes ends alone: its peer sees its port unbound and exits 0" 80 \
	"crash: bound to dom1 port 1, now faulting" "hv: crash: guest fault: page fault (#PF)" \
	"survive: dom2 ended, our port 1 is unbound again; SUCCESS" \
	"hv: dom1 (survive): exited with 0" "hv: dom2 (crash): ended: guest fault (80)" \
	-- --name=survive "$EV" survive 2 :: --name=crash "$EV" crash 1
dom_case "a send through the ring just before an exit is delivered" 0 \
	"survive: dom2 ended, our port 1 is unbound again; SUCCESS" "hv: dom2 (pv_events.img): exited with 0" \
	-- "$EV" survive 2 :: "$EV" ring-exit 1
dom_case "a write to a read-only grant ends that domain, naming the address and the grant" 81 \
	"hv: writer: write of 1 bytes at 0xd0000008 to a read-only grant: ref 2 of dom1, mapped read-only" \
	"granter: dom2 ended, its maps undone, access ended; SUCCESS" \
	"hv: dom1 (granter): exited with 0" "hv: dom2 (writer): ended: ABI violation (81)" \
	-- --name=granter "$GR" granter-simple 2 :: --name=writer "$GR" write-ro 1
{ printf 'sector 0 of the grantee'"'"'s disk\0'; head -c 65536 /dev/zero; } | head -c 65536 >"$DOM/dma.img"
dom_case "a disk reads into and writes from granted pages; a read into a read-only one is refused" 0 \
	"grantee: a disk read into a writable grant and a write from a read-only one" \
	"grantee: a disk read into a read-only grant refused; SUCCESS" \
	"granter: dom2's disk read landed in our page; SUCCESS" \
	"virtio-blk0 queue 0: descriptor 1: buffer [0xd0001000, +0x1000) is outside writable guest memory" \
	-- "$GR" granter-dma 2 :: --disk="$DOM/dma.img" "$GR" grantee-dma 1
if [[ $(head -c 4110 "$DOM/dma.img" | tail -c 14) == "read-only page" ]]; then
	ok "grants: the disk file holds what the device read from the read-only grant"
else
	not_ok "grants: sector 8 of the disk file: '$(head -c 4110 "$DOM/dma.img" | tail -c 14)'"
fi
dom_case "a granter that exits leaves its page mapped for the grantee" 0 \
	"granter: exiting while dom2 has our page mapped" \
	"grantee: dom1 ended; its page stayed mapped and usable until we unmapped; SUCCESS" \
	-- "$GR" granter-exit 2 :: "$GR" grantee-outlive 1

# The exit status: the lowest-numbered domain that did not end with 0; one summary line each.
dom_case "exit status: the lowest-numbered domain that did not end with 0" 3 \
	"hv: dom1 (pv_events.img): exited with 0" "hv: dom2 (pv_events.img): exited with 3" \
	"hv: dom3 (null_deref.img): ended: guest fault (80)" "hv: dom4 (five): exited with 5" \
	-- "$EV" exit 0 :: "$EV" exit 3 :: "$B/tests/guest/null_deref.img" :: --name=five "$EV" exit 5
dom_case "exit status: all 0 is 0" 0 "hv: dom1 (pv_events.img): exited with 0" \
	"hv: dom2 (pv_events.img): exited with 0" -- "$EV" exit 0 :: "$EV" exit 0
timeout 20 "$HV" "$EV" exit 7 >"$DOM/out" 2>&1
status=$?
if [[ $status == 7 ]] && ! grep -q "exited with" "$DOM/out"; then
	ok "one domain: its own status, no summary line"
else
	not_ok "one domain: its own status, no summary line (status $status)"
	sed 's/^/    output: /' "$DOM/out" | head -n 5
fi

# --config: quotes group words, comments and blank lines skipped, the file's domains first.
cat >"$DOM/two.conf" <<EOF
# two domains; the third comes from the command line

--name=first "$EV" args "two words" "" plain
	--name=second --mem=16M "$EV" args 'single' a"b c"d
EOF
dom_case "--config: quoted arguments, the file's domains before the command line's" 0 \
	'dom1 argv[2] = "two words"' 'dom1 argv[3] = ""' 'dom1 argv[4] = "plain"' \
	"dom2 argv[2] = \"'single'\"" 'dom2 argv[3] = "ab cd"' 'dom3 argv[1] = "args"' \
	"hv: dom1 (first): exited with 0" "hv: dom2 (second): exited with 0" \
	"hv: dom3 (pv_events.img): exited with 0" \
	-- --config="$DOM/two.conf" "$EV" args
printf -- '--name=a "%s" args "unclosed\n' "$EV" >"$DOM/bad.conf"
dom_case "--config: an unterminated quote names the file and line" 64 \
	"hv: $DOM/bad.conf:1: a double quote is not closed" -- --config="$DOM/bad.conf"
printf -- '--stats\n' >"$DOM/noimage.conf"
dom_case "--config: a line without an image" 64 "hv: $DOM/noimage.conf:1: no image given" \
	-- --config="$DOM/noimage.conf"
dom_case "--config: a missing file" 66 "hv: --config=$DOM/missing.conf: No such file or directory" \
	-- --config="$DOM/missing.conf"
dom_case "--help documents domains and --config" 0 "--config=FILE" "--name=NAME" "'::'" \
	"# a ping-pong pair" -- --help

# The command line's errors.
dom_case "'::' with nothing after it" 64 "hv: an empty domain" -- "$EV" exit 0 ::
dom_case "'::' first" 64 "hv: an empty domain" -- :: "$EV" exit 0
dom_case "domain options but no image" 64 "hv: no image given" -- "$EV" exit 0 :: --mem=8M
dom_case "an unknown option in a later domain" 64 "hv: unknown option '--bogus'" \
	-- "$EV" exit 0 :: --bogus "$EV" exit 0
dom_case "two domains with one name" 64 "--name=x: domains 1 and 2 have the same name" \
	-- --name=x "$EV" exit 0 :: --name=x "$EV" exit 0
dom_case "a name with a slash" 64 "--name=a/b: a name has 1 to 64 printable characters" \
	-- --name=a/b "$EV" exit 0
dom_case "a global option among a later domain's options" 0 "exits in" \
	"hv: dom2 (pv_events.img): exited with 0" -- "$EV" exit 0 :: --stats "$EV" exit 0
max=$(sed -n 's/^#define HV_MAX_DOMAINS //p' hv-iface/include/hv_abi.h)
for i in $(seq $((max + 1))); do echo "$EV exit 0"; done >"$DOM/too-many.conf"
dom_case "$((max + 1)) domains: too many" 64 "too many domains: hv runs at most $max" -- \
	--config="$DOM/too-many.conf"

# A stop signal ends every domain; each says so, and hv exits with 128 + the signal.
"$HV" --stats "$B/tests/integration/sleeper.img" :: "$B/tests/integration/sleeper.img" \
	>"$DOM/sig.out" 2>&1 &
pid=$!
for _ in $(seq 50); do [[ $(grep -c sleeping "$DOM/sig.out") == 2 ]] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
expect "SIGTERM ends every domain with 143" $? 143 "$DOM/sig.out" \
	"hv: dom1 (sleeper.img): ended: stopped by signal 15 (143)" \
	"hv: dom2 (sleeper.img): ended: stopped by signal 15 (143)" "blocked"
