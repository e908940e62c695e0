# SPDX-License-Identifier: MIT
# Integration tests of apps/kvstore on hv, over a tap in a network namespace of the test's own
# and with a disk file: every command's exact replies through redis-cli, protocol errors and
# pipelining on a raw socket, redis-benchmark unchanged, persistence across restarts, a torn
# log tail (truncated, then a flipped byte), and the power-loss test: a disk on a FUSE file
# system that drops unsynced writes when told (powerloss_fs.py), a write load, the plug pulled
# mid-load, and every acknowledged write still there; the same with the build that never
# flushes must lose some, or the test would prove nothing. Sourced by tests/run.sh (B, HV, TMP
# and the helpers of tests/lib.sh are set). Needs root (namespaces, taps, FUSE).

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
		"appendfsync:always" "aof_current_size:" "db0:keys=6,expires=1"; do
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
	before=$(kv_field aof_current_size)
	kvcli SET torn "$how" >/dev/null
	after=$(kv_field aof_current_size)
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
	if grep -q "a torn tail after them was discarded; appending at byte $before " "$TMP/kv.out"
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
	kv_power_tests
	kv_qemu
}

kv_main
kv_cleanup
kv_trap_restore
