# SPDX-License-Identifier: MIT
# Integration tests of apps/kvstore on hv, over a tap in a network namespace of the test's own
# and with a disk file: every command's exact replies through redis-cli, protocol errors and
# pipelining on a raw socket, redis-benchmark unchanged, persistence across restarts, a torn
# log tail (truncated, then a flipped byte), a format-1 disk (before the superblock) replayed
# and converted, log rewrites (BGREWRITEAOF, the automatic threshold under load, a full disk
# and how it recovers), and the power-loss tests: a disk on a FUSE file system that drops
# unsynced writes when told (powerloss_fs.py), a write load, the plug pulled mid-load, and
# every acknowledged write still there; then power cuts at chosen operations of rewrites, each
# followed by a boot that must find every key at its last acknowledged value. The builds that
# never flush, and that commit a rewrite before flushing it, must lose some, or the tests would
# prove nothing. Sourced by tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).
# Needs root (namespaces, taps, FUSE).

KV_NS=kvtest$$ KV_TAP=kvtap0 KV_HOST_IP=10.213.7.1 KV_IP=10.213.7.2
KV_PY=/usr/bin/python3 # Debian's, which has python3-fusepy
KV_CLIENT=tests/integration/kvstore_client.py
KV_PID= KV_FS_PID= KV_MNT=$TMP/plfs

# --- plumbing: the namespace, booting and stopping kvstore --------------------------------

kv_cleanup() {
	[[ -n $KV_PID ]] && kill -9 "$KV_PID" 2>/dev/null && wait "$KV_PID" 2>/dev/null
	KV_PID=
	if [[ -n $KV_FS_PID ]]; then
		umount "$KV_MNT" 2>/dev/null || umount -l "$KV_MNT" 2>/dev/null
		kill "$KV_FS_PID" 2>/dev/null && wait "$KV_FS_PID" 2>/dev/null
		KV_FS_PID=
	fi
	ip netns del "$KV_NS" 2>/dev/null
	return 0
}

# Run our cleanup before whatever EXIT trap run.sh set (and restore it at the end).
kv_trap_install() {
	eval "set -- $(trap -p EXIT)"
	KV_PREV_TRAP=${3:-} KV_TRAPPED=1
	trap 'kv_cleanup; eval "$KV_PREV_TRAP"' EXIT
	trap 'exit 130' INT TERM
}

kv_trap_restore() {
	[[ -n ${KV_TRAPPED:-} ]] || return 0
	trap - INT TERM
	if [[ -n $KV_PREV_TRAP ]]; then trap -- "$KV_PREV_TRAP" EXIT; else trap - EXIT; fi
}

kv_netns() {
	ip netns add "$KV_NS" &&
		ip -n "$KV_NS" link set lo up &&
		ip -n "$KV_NS" tuntap add "$KV_TAP" mode tap &&
		ip -n "$KV_NS" addr add "$KV_HOST_IP/24" dev "$KV_TAP" &&
		ip -n "$KV_NS" link set "$KV_TAP" up
}

# kv_boot IMAGE DISK [ARGS...]: start kvstore on hv in the namespace (hv opens the tap there),
# wait for its ready line. Its console goes to $TMP/kv.out.
kv_boot() {
	local img=$1 disk=$2 i
	shift 2
	# A guest killed mid-load leaves a failed neighbour entry; the next one has its address.
	ip -n "$KV_NS" neigh flush dev "$KV_TAP" 2>/dev/null
	ip netns exec "$KV_NS" "$HV" --mem=64M --net="$KV_TAP" --disk="$disk" "$img" \
		ip="$KV_IP/24" "$@" >"$TMP/kv.out" 2>&1 &
	KV_PID=$!
	for ((i = 0; i < 200; i++)); do
		if grep -q "kvstore: ready" "$TMP/kv.out"; then
			for ((i = 0; i < 50; i++)); do # and it answers over the tap
				[[ $(kvcli PING) == PONG ]] && return 0
				sleep 0.1
			done
			break
		fi
		kill -0 "$KV_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "    kvstore did not start:" && sed 's/^/    /' "$TMP/kv.out" | tail -n 5
	kv_stop
	return 1
}

# kv_flip_byte FILE OFFSET: invert one byte in place.
kv_flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 0xff)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# kill -9: the host file keeps what hv wrote (the host's page cache), as after a crash.
kv_stop() {
	[[ -n $KV_PID ]] && kill -9 "$KV_PID" 2>/dev/null && wait "$KV_PID" 2>/dev/null
	KV_PID=
	return 0
}

kvcli() { ip netns exec "$KV_NS" timeout 10 redis-cli -h "$KV_IP" --no-raw "$@" 2>&1; }
kvpy() { ip netns exec "$KV_NS" timeout 20 "$KV_PY" "$KV_CLIENT" "$@"; }
kv_field() { kvcli INFO | tr -d '\r' | sed -n "s/^$1://p"; }

# kv NAME WANT COMMAND...: redis-cli's whole output must be WANT.
kv() {
	local name=$1 want=$2 got
	shift 2
	got=$(kvcli "$@")
	if [[ $got == "$want" ]]; then ok "kvstore: $name"; else
		not_ok "kvstore: $name"
		printf '    redis-cli %s\n    got:  %q\n    want: %q\n' "$*" "$got" "$want"
	fi
}

# The same for replies whose order is the hash table's (KEYS): compared as sorted lines.
kv_sorted() {
	local name=$1 want=$2 got
	shift 2
	got=$(kvcli "$@" | sed 's/^[0-9]*) //' | sort)
	want=$(sed 's/^[0-9]*) //' <<<"$want" | sort)
	if [[ $got == "$want" ]]; then ok "kvstore: $name"; else
		not_ok "kvstore: $name"
		printf '    redis-cli %s\n    got:  %q\n    want: %q\n' "$*" "$got" "$want"
	fi
}

# kv_raw NAME WANT BYTES: what comes back for BYTES sent on a fresh connection.
kv_raw() {
	local got
	got=$(kvpy raw "$KV_IP" 6379 "$3")
	if [[ $got == "$2" ]]; then ok "kvstore: $1"; else
		not_ok "kvstore: $1"
		printf '    sent: %s\n    got:  %s\n    want: %s\n' "$3" "$got" "$2"
	fi
}

# --- the tests ----------------------------------------------------------------------------

kv_commands() {
	kv "PING" "PONG" PING
	kv "PING message" '"hi there"' PING "hi there"
	kv "ECHO" '"hello"' ECHO hello
	kv "SET" "OK" SET a 1
	kv "GET" '"1"' GET a
	kv "GET missing is nil" "(nil)" GET missing
	kv "SET NX on an existing key is nil" "(nil)" SET a 2 NX
	kv "SET XX on an existing key" "OK" SET a 2 XX
	kv "SET XX on a missing key is nil" "(nil)" SET b 1 XX
	kv "SET NX XX" "(error) ERR syntax error" SET a 1 NX XX
	kv "SET bad option" "(error) ERR syntax error" SET a 1 EXX 5
	kv "SET EX 0" "(error) ERR invalid expire time in 'set' command" SET a 1 EX 0
	kv "SET EX not a number" "(error) ERR value is not an integer or out of range" SET a 1 EX x
	kv "SET EX" "OK" SET ttl v EX 100
	kv "TTL" "(integer) 100" TTL ttl
	kv "SET PX" "OK" SET short v PX 200
	kv "GET before expiry" '"v"' GET short
	sleep 0.3
	kv "GET after expiry is nil" "(nil)" GET short
	kv "EXISTS after expiry" "(integer) 0" EXISTS short
	kv "INCR a new key" "(integer) 1" INCR c
	kv "INCRBY" "(integer) 11" INCRBY c 10
	kv "DECR" "(integer) 10" DECR c
	kv "DECRBY" "(integer) -10" DECRBY c 20
	kv "SET a string" "OK" SET s hello
	kv "INCR a string" "(error) ERR value is not an integer or out of range" INCR s
	kv "INCRBY not a number" "(error) ERR value is not an integer or out of range" INCRBY c 1.5
	kv "SET the largest integer" "OK" SET max 9223372036854775807
	kv "INCR past 64 bits" "(error) ERR increment or decrement would overflow" INCR max
	kv "MSET" "OK" MSET k1 v1 k2 v2 k3 v3
	kv "MSET odd arguments" "(error) ERR wrong number of arguments for 'mset' command" \
		MSET k1 v1 k2
	kv "MGET with a missing key" $'1) "v1"\n2) (nil)\n3) "v2"' MGET k1 nope k2
	kv "EXISTS counts each" "(integer) 3" EXISTS k1 k2 nope k1
	kv_sorted "KEYS with a class" $'1) "k1"\n2) "k2"' KEYS "k[12]"
	kv "KEYS negated class" '1) "k3"' KEYS "k[^12]"
	kv "KEYS none" "(empty array)" KEYS "zz*"
	kv "DEL" "(integer) 2" DEL k1 k2 nope
	kv "DEL again" "(integer) 0" DEL k1
	kv "DBSIZE" "(integer) 6" DBSIZE # a c ttl s max k3
	kv "SELECT 0" "OK" SELECT 0
	kv "SELECT 1" "(error) ERR DB index is out of range" SELECT 1
	kv "COMMAND" "(empty array)" COMMAND
	kv "CONFIG GET appendfsync" $'1) "appendfsync"\n2) "always"' CONFIG GET appendfsync
	kv "CONFIG GET save" $'1) "save"\n2) ""' CONFIG GET save
	kv "CONFIG GET appendonly" $'1) "appendonly"\n2) "yes"' CONFIG GET appendonly
	kv "arity" "(error) ERR wrong number of arguments for 'get' command" GET
	kv "unknown command" \
		"(error) ERR unknown command 'NOPE', with args beginning with: 'x' 'y' " NOPE x y
	kv "QUIT" "OK" QUIT

	# SCAN to the end of its cursor gives every key KEYS gives, once each.
	local cursor=0 scanned=() out i
	for ((i = 0; i < 100; i++)); do
		mapfile -t out < <(kvcli SCAN "$cursor" COUNT 2 |
			sed -e 's/^[0-9]*) //' -e 's/^ *[0-9]*) //' -e 's/"//g')
		cursor=${out[0]}
		scanned+=("${out[@]:1}")
		[[ $cursor == 0 ]] && break
	done
	local want got
	want=$(kvcli KEYS '*' | sed -e 's/^[0-9]*) //' -e 's/"//g' | sort | tr '\n' ' ')
	got=$(printf '%s\n' "${scanned[@]}" | grep -v '^(empty array)$' | sort | tr '\n' ' ')
	if [[ $got == "$want" && -n $want ]]; then
		ok "kvstore: SCAN to cursor 0 gives every key"
	else
		not_ok "kvstore: SCAN to cursor 0 gives every key"
		printf '    scan: %s\n    keys: %s\n' "$got" "$want"
	fi

	local info
	info=$(kvcli INFO | tr -d '\r')
	local missing=()
	for f in "kvstore_version:" "uptime_in_seconds:" "connected_clients:1" "aof_enabled:1" \
		"appendfsync:always" "aof_current_size:" "aof_format:2" "aof_generation:1" \
		"aof_rewrite_in_progress:0" "aof_rewrites:0" "aof_last_bgrewrite_status:ok" \
		"db0:keys=6,expires=1"; do
		grep -q "^$f" <<<"$info" || missing+=("$f")
	done
	if ((${#missing[@]} == 0)); then ok "kvstore: INFO fields"; else
		not_ok "kvstore: INFO fields: missing ${missing[*]}"
		sed 's/^/    /' <<<"$info" | head -n 40
	fi
}

kv_protocol() {
	kv_raw "pipelined inline commands, answered in order" \
		"b'+PONG\\r\\n+OK\\r\\n\$1\\r\\n1\\r\\n'" 'PING\r\nSET p 1\r\nGET p\r\n'
	local set_bin='*3\r\n$3\r\nSET\r\n$3\r\nb\x00n\r\n$5\r\nx\r\ny\x00\r\n'
	local get_bin='*2\r\n$3\r\nGET\r\n$3\r\nb\x00n\r\n'
	kv_raw "binary-safe keys and values" "b'+OK\\r\\n\$5\\r\\nx\\r\\ny\\x00\\r\\n'" \
		"$set_bin$get_bin"
	kv_raw "bulk string over 512 MB: error, then close" \
		"b'-ERR Protocol error: invalid bulk length\\r\\n' closed" \
		'*2\r\n$3\r\nGET\r\n$536870913\r\n'
	kv_raw "malformed multibulk length: error, then close" \
		"b'-ERR Protocol error: invalid multibulk length\\r\\n' closed" '*x\r\n'
	kv_raw "replies before a protocol error still go out" \
		"b\"+PONG\\r\\n-ERR Protocol error: expected '\$', got 'X'\\r\\n\" closed" \
		'PING\r\n*1\r\nX\r\n'
}

kv_benchmark() {
	local out sets gets
	out=$(ip netns exec "$KV_NS" timeout 60 \
		redis-benchmark -h "$KV_IP" -t set,get -n 2000 -q 2>&1 | tr '\r' '\n')
	sets=$(grep -o 'SET: [0-9.]* requests per second[^$]*' <<<"$out" | tail -n1)
	gets=$(grep -o 'GET: [0-9.]* requests per second[^$]*' <<<"$out" | tail -n1)
	if [[ -n $sets && -n $gets ]] && ! grep -qi "error\|warning" <<<"$out"; then
		ok "kvstore: redis-benchmark -t set,get -n 2000 -q runs unchanged"
		echo "    $sets"
		echo "    $gets"
	else
		not_ok "kvstore: redis-benchmark -t set,get -n 2000 -q"
		sed 's/^/    /' <<<"$out" | grep -v '^ *$' | tail -n 10
	fi
}

# The keys the persistence checks look for, written after everything else.
kv_persistent_keys() {
	kvcli FLUSHALL >/dev/null
	kvcli MSET p1 one p2 two p3 three >/dev/null
	kvcli SET pex v EX 1000 >/dev/null
	kvcli SET pgone v PX 100 >/dev/null
	kvcli INCRBY pcount 41 >/dev/null
	kvcli INCR pcount >/dev/null
	kvcli DEL p3 >/dev/null
	sleep 0.2 # pgone has expired by the restart
}

kv_expect_persistent() { # kv_expect_persistent WHEN KEYS
	kv "$1: MGET" $'1) "one"\n2) "two"\n3) (nil)' MGET p1 p2 p3
	kv "$1: INCR result" '"42"' GET pcount
	kv "$1: expiry kept, absolute" "(integer) 1" EXISTS pex
	kv "$1: expired key gone" "(nil)" GET pgone
	kv "$1: DBSIZE" "(integer) $2" DBSIZE
}

# Mess up the last record on the disk (truncate or flip), restart, and check.
kv_torn() { # kv_torn HOW DISK KEYS
	local how=$1 disk=$2 keys=$3 before after size
	before=$(kv_field aof_end_offset) # device offsets, not the log's size
	kvcli SET torn "$how" >/dev/null
	after=$(kv_field aof_end_offset)
	kv_stop
	size=$(stat -c %s "$disk")
	if [[ $how == truncate ]]; then # cut mid-record: the rest of the file reads as zeros
		truncate -s $(((before + after) / 2)) "$disk" && truncate -s "$size" "$disk"
	else # flip one byte in the last record's payload
		kv_flip_byte "$disk" $((after - 4))
	fi
	if ! kv_boot "$B/apps/kvstore.img" "$disk"; then
		not_ok "kvstore: boot after a torn tail ($how)"
		return
	fi
	if grep -q "a torn or stale tail after them was discarded; appending at byte $before " \
		"$TMP/kv.out"
	then
		ok "kvstore: torn tail ($how) found at the last record, discarded"
	else
		not_ok "kvstore: torn tail ($how) not reported at byte $before"
		sed 's/^/    /' "$TMP/kv.out"
	fi
	kv "torn tail ($how): the torn record is gone" "(nil)" GET torn
	kv_expect_persistent "torn tail ($how)" "$keys"
	kv "torn tail ($how): new writes work" "OK" SET "after-$how" yes
	kv "torn tail ($how): and read back" '"yes"' GET "after-$how"
}

# Load, pull the plug mid-load, restart on what survived, check every acknowledged write.
# Leaves the verify line in KV_LAST_VERIFY and returns: 0 nothing acknowledged was lost, 3 some
# was, 2 kvstore did not start, anything else the verifying client failed.
kv_power_loss() { # kv_power_loss IMAGE NAME
	local img=$1 name=$2 disk=$KV_MNT/$2.img acked=$TMP/$2.acked load i n rc
	truncate -s 16M "$disk" && : >"$acked"
	kv_boot "$img" "$disk" || return 2
	# Not through timeout(1): $! must be the client itself, to kill it by its id.
	ip netns exec "$KV_NS" "$KV_PY" "$KV_CLIENT" load "$KV_IP" 6379 "$acked" "$name" 4 4 &
	load=$!
	for ((i = 0; i < 200; i++)); do # wait until a few hundred writes were acknowledged
		n=$(wc -l <"$acked")
		((n >= 300)) && break
		sleep 0.05
	done
	sleep 0.$((RANDOM % 3 + 1)) # then pull the plug somewhere in the middle of the load
	kill -9 "$KV_PID" && wait "$KV_PID" 2>/dev/null
	KV_PID=
	echo 1 >"$KV_MNT/.plug"
	kill -9 "$load" 2>/dev/null
	wait "$load" 2>/dev/null
	KV_LAST_STATS=$(cat "$KV_MNT/.stats")
	kv_boot "$img" "$disk" || return 2
	KV_LAST_VERIFY=$(kvpy verify "$KV_IP" 6379 "$acked" "$name" 2>&1)
	rc=$?
	kv_stop
	return $rc
}

kv_power_tests() {
	mkdir -p "$KV_MNT"
	"$KV_PY" tests/integration/powerloss_fs.py "$KV_MNT" >"$TMP/plfs.log" 2>&1 &
	KV_FS_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do mountpoint -q "$KV_MNT" && break; sleep 0.05; done
	if ! mountpoint -q "$KV_MNT"; then
		not_ok "kvstore: power loss: the FUSE file system did not mount"
		sed 's/^/    /' "$TMP/plfs.log"
		return
	fi
	local t="kvstore: power loss mid-load"
	kv_power_loss "$B/apps/kvstore.img" always
	case $? in
	0) ok "$t: every acknowledged write survives ($KV_LAST_VERIFY; fs: $KV_LAST_STATS)" ;;
	2) not_ok "$t: kvstore did not start" ;;
	3) not_ok "$t: acknowledged writes lost ($KV_LAST_VERIFY)" ;;
	*) not_ok "$t: the verifying client failed: $KV_LAST_VERIFY" ;;
	esac
	t="kvstore: power loss mid-load with the no-flush build"
	kv_power_loss "$B/apps/kvstore-noflush.img" noflush
	case $? in
	0) not_ok "$t lost nothing: the test cannot tell a broken log ($KV_LAST_VERIFY)" ;;
	2) not_ok "$t: kvstore did not start" ;;
	3) ok "$t loses acknowledged writes, as it must ($KV_LAST_VERIFY)" ;;
	*) not_ok "$t: the verifying client failed: $KV_LAST_VERIFY" ;;
	esac
	kv_rewrite_cut_tests
}

# --- a format-1 disk, and rewrites ----------------------------------------------------------

# A disk as kvstore wrote it before the superblock: replayed, appended to, then converted by
# its first rewrite.
kv_format1() {
	local disk=$TMP/kv-f1.disk t="kvstore: a format-1 disk"
	truncate -s 1M "$disk" && "$KV_PY" "$KV_CLIENT" format1 "$disk"
	kv_boot "$B/apps/kvstore.img" "$disk" || { not_ok "$t: kvstore did not start"; return; }
	if grep -q "format 1, region of 1024 KiB at 0): 4 records replayed" "$TMP/kv.out"; then
		ok "$t is replayed as one log from byte 0"
	else
		not_ok "$t is not replayed as one"; sed 's/^/    /' "$TMP/kv.out"
	fi
	kv "format 1: its keys" $'1) (nil)\n2) "two"\n3) "5"' MGET f1a f1b f1n
	kv "format 1: appended to" OK SET f1c three
	kv "format 1: BGREWRITEAOF converts it" "Background append only file rewriting started" \
		BGREWRITEAOF
	kv_rewrite_wait
	kv_stop
	kv_boot "$B/apps/kvstore.img" "$disk" || { not_ok "$t: no start after it"; return; }
	if grep -q "format 2, region of 508 KiB at 524288)" "$TMP/kv.out"; then
		ok "$t, rewritten, is format 2 (its log in region 1, sector 0 a superblock)"
	else
		not_ok "$t, rewritten, is not format 2 in region 1"; sed 's/^/    /' "$TMP/kv.out"
	fi
	kv "format 1, converted: every key" $'1) (nil)\n2) "two"\n3) "5"\n4) "three"' \
		MGET f1a f1b f1n f1c
	kv_stop
}

KV_RW_KEYS=2000 # the churn's keys, a multiple of its 4 connections

# kv_churn JOURNAL PREFIX FIRST COUNT: a churn load (kvstore_client.py) run to its end.
kv_churn() {
	ip netns exec "$KV_NS" timeout 120 "$KV_PY" "$KV_CLIENT" churn "$KV_IP" 6379 "$1" "$2" \
		"$KV_RW_KEYS" "$3" "$4"
}

# kv_check NAME JOURNAL PREFIX: every key as the churn's journal allows.
kv_check() {
	local got
	got=$(kvpy check "$KV_IP" 6379 "$2" "$3" "$KV_RW_KEYS" 2>&1)
	if [[ $? == 0 ]]; then ok "kvstore: $1 ($got)"; else not_ok "kvstore: $1 ($got)"; fi
}

# The first operation number past every one a journal has.
kv_next_op() { awk 'BEGIN { m = -1 } $2 > m { m = $2 } END { print m + 1 }' "$1"; }

# Until no rewrite runs (at most 20 s).
kv_rewrite_wait() {
	local i
	for ((i = 0; i < 400; i++)); do
		[[ $(kv_field aof_rewrite_in_progress) == 0 ]] && return 0
		sleep 0.05
	done
	return 1
}

# BGREWRITEAOF through redis-cli: the log shrinks, every key holds, a restart too.
kv_rewrite() {
	local disk=$TMP/kv-rw.disk j=$TMP/rw.journal t="kvstore: BGREWRITEAOF" before after info
	truncate -s 16M "$disk" && : >"$j"
	kv_boot "$B/apps/kvstore.img" "$disk" auto-aof-rewrite-percentage=0 ||
		{ not_ok "$t: kvstore did not start"; return; }
	# Four and a half rounds over the keys: overwrites, a round of DELs, half set once more.
	kv_churn "$j" rw 0 $((9 * KV_RW_KEYS / 2))
	before=$(kv_field aof_current_size)
	kv "BGREWRITEAOF" "Background append only file rewriting started" BGREWRITEAOF
	kv_rewrite_wait || not_ok "$t: the rewrite did not end"
	after=$(kv_field aof_current_size)
	info=$(kvcli INFO persistence | tr -d '\r')
	if grep -q '^aof_rewrites:1$' <<<"$info" && grep -q '^aof_last_bgrewrite_status:ok$' <<<"$info" &&
		grep -q "^aof_last_rewrite_size_before:$before\$" <<<"$info" &&
		grep -q "^aof_last_rewrite_size_after:$after\$" <<<"$info" && ((after * 4 < before))
	then
		ok "$t: the log shrinks from $before to $after bytes, as INFO says" \
			"($(sed -n 's/^aof_last_rewrite_keys://p' <<<"$info") keys," \
			"$(sed -n 's/^aof_last_rewrite_ms://p' <<<"$info") ms)"
	else
		not_ok "$t: the log went from $before to $after bytes"
		grep rewrite <<<"$info" | sed 's/^/    /'
	fi
	kv_check "after BGREWRITEAOF, every key holds its last acknowledged value" "$j" rw
	kv_raw "BGREWRITEAOF while one runs is refused" \
		"b'+Background append only file rewriting started\\r\\n-ERR Background append only file rewriting already in progress\\r\\n'" \
		'BGREWRITEAOF\r\nBGREWRITEAOF\r\n'
	kv_rewrite_wait
	kv "a write after the rewrites" OK SET rw-after yes
	kv_stop
	kv_boot "$B/apps/kvstore.img" "$disk" || { not_ok "$t: no start after it"; return; }
	kv "a write after a rewrite survives a restart" '"yes"' GET rw-after
	kvcli DEL rw-after >/dev/null # the check wants the churn's keys only
	kv_check "after two rewrites and a restart, every key as acknowledged" "$j" rw
	if [[ $(kv_field aof_generation) == 3 ]]; then
		ok "$t: two rewrites, two commits: the log's generation 3 after a restart"
	else
		not_ok "$t: generation $(kv_field aof_generation) after two rewrites, not 3"
	fi
	kv_stop
}

# What a rewrite of many keys costs: redis-benchmark sets 100,000 random keys (about 63,000).
kv_rewrite_figures() {
	local disk=$TMP/kv-fig.disk keys ms before after n
	truncate -s 64M "$disk"
	kv_boot "$B/apps/kvstore.img" "$disk" auto-aof-rewrite-percentage=0 ||
		{ not_ok "kvstore: a large rewrite: kvstore did not start"; return; }
	ip netns exec "$KV_NS" timeout 120 redis-benchmark -h "$KV_IP" -t set -n 100000 \
		-r 100000 -d 64 -P 16 -q >/dev/null 2>&1
	n=$(kvcli DBSIZE | tr -dc 0-9)
	before=$(kv_field aof_current_size)
	kvcli BGREWRITEAOF >/dev/null
	kv_rewrite_wait
	keys=$(kv_field aof_last_rewrite_keys) ms=$(kv_field aof_last_rewrite_ms)
	after=$(kv_field aof_current_size)
	if [[ $(kv_field aof_last_bgrewrite_status) == ok && $keys == "$n" ]] && ((n > 50000)); then
		ok "kvstore: a rewrite of $keys keys: $before -> $after bytes in $ms ms"
	else
		not_ok "kvstore: a rewrite of $n keys: $keys keys in the snapshot, $before -> $after"
	fi
	kv_stop
	kv_boot "$B/apps/kvstore.img" "$disk" || { not_ok "kvstore: no start after it"; return; }
	kv "all $n keys back after a restart ($(grep -o '[0-9]* records replayed in [0-9]* ms' \
		"$TMP/kv.out"))" "(integer) $n" DBSIZE
	kv_stop
}

# The threshold: with auto-aof-rewrite-* set low, a write load alone makes rewrites.
kv_rewrite_auto() {
	local disk=$TMP/kv-auto.disk j=$TMP/auto.journal t="kvstore: automatic rewrites" n size
	truncate -s 16M "$disk" && : >"$j"
	kv_boot "$B/apps/kvstore.img" "$disk" auto-aof-rewrite-percentage=100 \
		auto-aof-rewrite-min-size=256kb || { not_ok "$t: kvstore did not start"; return; }
	kv "CONFIG GET auto-aof-rewrite-*" \
		$'1) "auto-aof-rewrite-percentage"\n2) "100"\n3) "auto-aof-rewrite-min-size"\n4) "262144"' \
		CONFIG GET 'auto-aof-rewrite-*'
	kv_churn "$j" auto 0 $((10 * KV_RW_KEYS))
	kv_rewrite_wait
	n=$(kv_field aof_rewrites) size=$(kv_field aof_current_size)
	if ((n >= 2)) && [[ $(kv_field aof_last_rewrite_cause) == auto ]] &&
		grep -q "log rewritten (auto)" "$TMP/kv.out" && ((size < 1 << 20)); then
		ok "$t: $n under a write load of $((10 * KV_RW_KEYS)) writes, none asked for;" \
			"the log is $size bytes"
	else
		not_ok "$t: $n rewrites, the last by $(kv_field aof_last_rewrite_cause), log $size bytes"
		grep "rewrit" "$TMP/kv.out" | sed 's/^/    /'
	fi
	kv_check "automatic rewrites: every key as acknowledged" "$j" auto
	kv_stop
	kv_boot "$B/apps/kvstore.img" "$disk" || { not_ok "$t: no start after them"; return; }
	kv_check "automatic rewrites: and after a restart" "$j" auto
	kv_stop
}

# A full disk: writes are refused with an error and not applied, reads and DEL go on, a
# rewrite makes room; nothing acknowledged is lost. Then the rewrite a full log starts itself.
kv_full_disk() {
	local disk=$TMP/kv-full.disk t="kvstore: full disk" f="full disk" val got i n half keys=()
	local full="(error) ERR disk full: the append-only log has no room, the write was not run (DEL, FLUSHALL or BGREWRITEAOF can make room)"
	val=$(printf 'v%.0s' {1..1000})
	truncate -s 256K "$disk"
	kv_boot "$B/apps/kvstore.img" "$disk" auto-aof-rewrite-percentage=0 ||
		{ not_ok "$t: kvstore did not start"; return; }
	for ((i = 0; i < 1000; i++)); do
		got=$(kvcli SET "full:$i" "$val")
		[[ $got == OK ]] || break
	done
	n=$i
	if [[ $got == "$full" ]] && ((n > 50)); then
		ok "$t: after $n writes of 1000 bytes into a log region of" \
			"$(kv_field aof_region_size) bytes, the next is refused: $got"
	else
		not_ok "$t: after $n writes, got: $got"
	fi
	kv "$f: the refused write was not applied" "(nil)" GET "full:$n"
	kv "$f: reads go on" "\"$val\"" GET full:0
	kv "$f: the next write is refused too" "$full" SET other "$val"
	if [[ $(kv_field aof_writes_refused_full) == 2 ]]; then
		ok "$t: INFO counts the refused writes"
	else
		not_ok "$t: INFO says aof_writes_refused_full:$(kv_field aof_writes_refused_full)"
	fi
	half=$((n / 2))
	for ((i = 0; i < half; i++)); do keys+=("full:$i"); done
	kv "$f: DEL still runs on a full log" "(integer) $half" DEL "${keys[@]}"
	kv_stop
	kv_boot "$B/apps/kvstore.img" "$disk" auto-aof-rewrite-percentage=0 ||
		{ not_ok "$t: no start on the full disk"; return; }
	kv "$f: every acknowledged write is there after a restart" "(integer) $((n - half))" DBSIZE
	kv "$f: with its value" "\"$val\"" GET "full:$((n - 1))"
	kv "$f: the deleted keys are gone" "(nil)" GET full:0
	kv "$f: still full after the restart" "$full" SET other "$val"
	kv "$f: BGREWRITEAOF" "Background append only file rewriting started" BGREWRITEAOF
	kv_rewrite_wait
	kv "$f: after DEL and BGREWRITEAOF, writes work again" OK SET full:new "$val"
	kv_stop
	kv_boot "$B/apps/kvstore.img" "$disk" || { not_ok "$t: no start after the rewrite"; return; }
	kv "$f: and survive a restart" "(integer) $((n - half + 1))" DBSIZE
	kv_stop

	# One key overwritten until the log is full: the refused write starts a rewrite itself.
	truncate -s 0 "$disk" && truncate -s 256K "$disk"
	kv_boot "$B/apps/kvstore.img" "$disk" auto-aof-rewrite-percentage=1000000 ||
		{ not_ok "$t: kvstore did not start"; return; }
	for ((i = 0; i < 1000; i++)); do
		got=$(kvcli SET hot "$i-$val")
		[[ $got == OK ]] || break
	done
	kv_rewrite_wait
	if [[ $got == "$full" && $(kv_field aof_last_rewrite_cause) == "disk full" &&
		$(kv_field aof_last_bgrewrite_status) == ok ]]; then
		ok "$t: after $i overwrites of one key, the refused write started a rewrite itself"
	else
		not_ok "$t: after $i overwrites: $got; last rewrite by" \
			"$(kv_field aof_last_rewrite_cause), $(kv_field aof_last_bgrewrite_status)"
	fi
	kv "$f: after which writes work again" OK SET hot last
	kv_stop
	kv_boot "$B/apps/kvstore.img" "$disk" || { not_ok "$t: no start after it"; return; }
	kv "$f: the last acknowledged value after a restart" '"last"' GET hot
	kv_stop
}

# --- power cuts during rewrites -------------------------------------------------------------

# kv_rewrite_cuts IMAGE NAME CUT...: on a disk in powerloss_fs.py, a churn load, then for each
# CUT ("load|quiet SPEC": with the churn going on or not, and SPEC for .cut: ANCHOR N MODE) a
# BGREWRITEAOF with the cut armed at once, the power out when it comes, kvstore booted again on
# what the disk kept, and every key checked against the journal: its last acknowledged value
# or a later unacknowledged one, never an older one. The next cut starts from there. Sets
# KV_CUTS (cuts checked), KV_CUT_NEW (of them, those after which the new log was replayed),
# KV_CUT_BAD (those after which a key was wrong) and KV_CUT_FIRST_BAD. Returns 2 if kvstore
# did not start.
kv_rewrite_cuts() {
	local img=$1 name=$2 disk=$KV_MNT/$2.img j=$TMP/$2.journal cut load spec lp was got i
	shift 2
	KV_CUTS=0 KV_CUT_NEW=0 KV_CUT_BAD=0 KV_CUT_FIRST_BAD=
	truncate -s 16M "$disk" && : >"$j"
	echo off >"$KV_MNT/.cut"
	kv_boot "$img" "$disk" auto-aof-rewrite-percentage=0 || return 2
	kv_churn "$j" "$name" 0 $((9 * KV_RW_KEYS / 2))
	for cut in "$@"; do
		read -r load spec <<<"$cut"
		was=$(kv_field aof_region_start)
		lp=
		if [[ $load == load ]]; then
			ip netns exec "$KV_NS" "$KV_PY" "$KV_CLIENT" churn "$KV_IP" 6379 "$j" "$name" \
				"$KV_RW_KEYS" "$(kv_next_op "$j")" 0 &
			lp=$!
			sleep 0.2
		fi
		got=$(kvpy bgrewrite "$KV_IP" 6379 "$KV_MNT/.cut" "$spec")
		[[ $got == -* ]] && printf '    %s: BGREWRITEAOF: %s\n' "$cut" "$got"
		for ((i = 0; i < 100; i++)); do # the power goes, and kvstore stops on the error
			kill -0 "$KV_PID" 2>/dev/null || break
			sleep 0.05
		done
		# A quiet disk may end the rewrite before the count: then the cut is after it.
		kill -0 "$KV_PID" 2>/dev/null && echo 1 >"$KV_MNT/.plug"
		kv_stop
		[[ -n $lp ]] && { kill -9 "$lp"; wait "$lp"; } 2>/dev/null
		echo off >"$KV_MNT/.cut"
		kv_boot "$img" "$disk" auto-aof-rewrite-percentage=0 || return 2
		KV_CUTS=$((KV_CUTS + 1))
		[[ $(kv_field aof_region_start) != "$was" ]] && KV_CUT_NEW=$((KV_CUT_NEW + 1))
		if ! got=$(kvpy check "$KV_IP" 6379 "$j" "$name" "$KV_RW_KEYS" 2>&1); then
			KV_CUT_BAD=$((KV_CUT_BAD + 1))
			KV_CUT_FIRST_BAD=${KV_CUT_FIRST_BAD:-"$cut: $got"}
		fi
	done
	kv_stop
	return 0
}

# The operations from BGREWRITEAOF to its superblock write under the churn load, to spread
# the cuts over, into KV_SPAN (0 when that cannot be measured).
kv_rewrite_span() {
	local disk=$KV_MNT/span.img j=$TMP/span.journal lp
	KV_SPAN=0
	truncate -s 16M "$disk" && : >"$j"
	echo off >"$KV_MNT/.cut"
	if kv_boot "$B/apps/kvstore.img" "$disk" auto-aof-rewrite-percentage=0; then
		kv_churn "$j" span 0 $((9 * KV_RW_KEYS / 2))
		ip netns exec "$KV_NS" "$KV_PY" "$KV_CLIENT" churn "$KV_IP" 6379 "$j" span \
			"$KV_RW_KEYS" "$(kv_next_op "$j")" 0 &
		lp=$!
		sleep 0.2
		kvpy bgrewrite "$KV_IP" 6379 "$KV_MNT/.cut" "ops 1000000 lose" >/dev/null
		kv_rewrite_wait
		KV_SPAN=$(sed -n 's/.* super_at \([0-9]*\) .*/\1/p' "$KV_MNT/.stats")
		kill -9 "$lp" 2>/dev/null
		wait "$lp" 2>/dev/null
		kv_stop
	fi
	echo off >"$KV_MNT/.cut"
	rm -f "$disk"
	KV_SPAN=${KV_SPAN:-0}
}

kv_rewrite_cut_tests() {
	local t="kvstore: power cuts during rewrites" span k cuts=() modes=(newest lose random:)
	kv_rewrite_span
	span=$KV_SPAN
	((span > 0)) || { not_ok "$t: the rewrite's operations could not be counted"; return; }
	# Twelve cuts spread from BGREWRITEAOF to past its commit, under load ...
	for ((k = 0; k < 12; k++)); do
		local mode=${modes[k % 3]}
		[[ $mode == random: ]] && mode=random:$k
		cuts+=("load ops $((k * (span + 3) / 11)) $mode")
	done
	# ... six at the commit point: the superblock write failing, done but not flushed (kept
	# or lost), flushed, and a little later; and six with nothing else writing, so that the
	# rewrite's own writes are the only ones unflushed when the power goes.
	cuts+=("load super 0 newest" "load super 1 newest" "load super 1 lose"
		"load super 2 random:5" "load super 3 newest" "load super 6 random:8"
		"quiet ops 0 newest" "quiet ops 1 random:2" "quiet ops 2 newest"
		"quiet super 0 lose" "quiet super 1 newest" "quiet super 1 random:4")
	kv_rewrite_cuts "$B/apps/kvstore.img" cuts "${cuts[@]}"
	case $? in
	2) not_ok "$t: kvstore did not start (after $KV_CUTS cuts)" ;;
	*)
		if ((KV_CUT_BAD == 0 && KV_CUTS == ${#cuts[@]})); then
			ok "$t: $KV_CUTS cuts (at operations 0 to $((span + 3)) of a rewrite that" \
				"commits at about $span, and around its commit), $KV_CUT_NEW of them" \
				"after the commit: every acknowledged write there after each"
		else
			not_ok "$t: $KV_CUT_BAD of $KV_CUTS cuts lost or resurrected writes:" \
				"$KV_CUT_FIRST_BAD"
		fi
		;;
	esac
	if [[ ! -f $B/apps/kvstore-earlycommit.img ]]; then
		not_ok "$t with the early-commit build: $B/apps/kvstore-earlycommit.img is missing" \
			"(make test-build makes it)"
		return
	fi
	t="kvstore: power cuts during rewrites with the early-commit build"
	kv_rewrite_cuts "$B/apps/kvstore-earlycommit.img" early "quiet super 1 newest" \
		"load super 1 newest" "quiet super 1 random:4"
	case $? in
	2) not_ok "$t: kvstore did not start" ;;
	*)
		if ((KV_CUT_BAD > 0)); then
			ok "$t loses acknowledged writes, as it must ($KV_CUT_BAD of $KV_CUTS cuts:" \
				"$KV_CUT_FIRST_BAD)"
		else
			not_ok "$t lost nothing in $KV_CUTS cuts: the test cannot tell a bad commit"
		fi
		;;
	esac
}

# The same appliance on QEMU microvm, on the same tap: commands, then a restart on its disk.
kv_qemu() {
	local disk=$TMP/kv-qemu.disk i
	command -v qemu-system-x86_64 >/dev/null ||
		{ skip "kvstore on qemu: qemu-system-x86_64 is not installed"; return; }
	truncate -s 16M "$disk"
	for round in 1 2; do
		ip -n "$KV_NS" neigh flush dev "$KV_TAP" 2>/dev/null
		QEMU_OPTS="-netdev tap,id=n0,ifname=$KV_TAP,script=no,downscript=no -device virtio-net-device,netdev=n0 -drive if=none,id=d0,file=$disk,format=raw -device virtio-blk-device,drive=d0" \
			ip netns exec "$KV_NS" mk/qemu-run.sh "$B/apps/kvstore.img" ip="$KV_IP/24" \
			>"$TMP/kvq.out" 2>&1 &
		KV_PID=$!
		# Until it answers, or QEMU is gone (a boot that failed: the cases below then fail).
		for ((i = 0; i < 300; i++)); do
			kill -0 "$KV_PID" 2>/dev/null || break
			[[ $(ip netns exec "$KV_NS" timeout 1 redis-cli -h "$KV_IP" PING 2>&1) == PONG ]] &&
				break
			sleep 0.1
		done
		kill -0 "$KV_PID" 2>/dev/null ||
			sed 's/^/    qemu: /' "$TMP/kvq.out" | tail -n 5
		if ((round == 1)); then
			kv "on qemu: SET" OK SET qemu-key from-qemu
			kv "on qemu: GET" '"from-qemu"' GET qemu-key
		else
			kv "on qemu: the key is back after a restart" '"from-qemu"' GET qemu-key
		fi
		kill "$KV_PID" 2>/dev/null
		wait "$KV_PID" 2>/dev/null
		KV_PID=
	done
}

kv_main() {
	local missing=() disk=$TMP/kv.disk
	((EUID == 0)) || { skip "kvstore: needs root (network namespace, tap, FUSE)"; return; }
	for c in ip redis-cli redis-benchmark "$KV_PY" mountpoint; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	"$KV_PY" -c "import fusepy" 2>/dev/null || missing+=(python3-fusepy)
	[[ -c /dev/net/tun && -c /dev/fuse ]] || missing+=(/dev/net/tun /dev/fuse)
	hv_has --net=TAP || missing+=("hv --net")
	if ((${#missing[@]})); then
		skip "kvstore: missing ${missing[*]} (make deps installs what is packaged)"
		return
	fi
	kv_trap_install
	if ! kv_netns; then
		not_ok "kvstore: cannot make network namespace $KV_NS with tap $KV_TAP"
		return
	fi
	truncate -s 16M "$disk"
	if kv_boot "$B/apps/kvstore.img" "$disk"; then
		ok "kvstore: boots on hv with a disk and a tap"
		kv_commands
		kv_protocol
		kv_benchmark
		kv_persistent_keys
		kv_stop
		if kv_boot "$B/apps/kvstore.img" "$disk"; then
			if grep -q "records replayed" "$TMP/kv.out"; then
				ok "kvstore: restart replays the log"
			else
				not_ok "kvstore: restart did not say it replayed the log"
			fi
			kv_expect_persistent "after a restart" 4
			kv_torn truncate "$disk" 4
			kv_torn flip "$disk" 5 # with the write that followed the first torn tail
			kv "a write appended after a torn tail survives the next one" '"yes"' \
				GET after-truncate
			kv_stop
		else
			not_ok "kvstore: restart on the same disk"
		fi
	else
		not_ok "kvstore: boots on hv with a disk and a tap"
	fi
	kv_format1
	kv_rewrite
	kv_rewrite_figures
	kv_rewrite_auto
	kv_full_disk
	kv_power_tests
	kv_qemu
}

kv_main
kv_cleanup
kv_trap_restore
