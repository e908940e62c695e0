#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench-net: the network appliances against native servers, side by side in one run.
#   HTTP:  wrk against apps/httpd on hv and on QEMU microvm (over a tap), and against nginx
#          natively in the host namespace (over a veth pair), serving the same file
#   TCP:   one stream for SECONDS_PER seconds (bench/tcpstream.c) into the appliance on hv and
#          QEMU, and into the same program natively
#   Redis: redis-benchmark GET and SET, with and without pipelining, against apps/kvstore
#          (memory only) on hv and QEMU, and against redis-server (no persistence) natively
# hv runs on every backend it has here (kvm where /dev/kvm is usable, proc always). The clients
# run in a namespace of this script's own; each round runs every target once, alternating; the
# summary is the median over RUNS rounds, for each placement of servers and clients (below).
# Usage: bench/net.sh BUILD_DIR   (RUNS=n rounds, default 3; SECONDS_PER=n wrk duration;
#        BACKENDS="kvm proc" to choose the backends; PLACEMENTS="split unpinned", the default
#        with two CPUs or more, or either alone)
set -euo pipefail

B=$1
RUNS=${RUNS:-3}
DUR=${SECONDS_PER:-5}
NS=pvkit-bnet-$$
SUB=10.93.0 VETH=10.94.0
TMP=$(mktemp -d)
source bench/lib.sh
native_pids=()
cleanup() {
	guest_stop
	for p in "${native_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	netns_down "$NS"
	ip link del pvkit-bv$$ 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

((EUID == 0)) || { echo "bench-net needs root (network namespaces, tap and veth devices)"; exit 1; }
for c in wrk nginx redis-server redis-benchmark; do
	command -v "$c" >/dev/null || { echo "bench-net: $c missing (make deps installs it)"; exit 1; }
done
have_qemu=0
command -v qemu-system-x86_64 >/dev/null && have_qemu=1

bench_banner bench-net "hv runs on proc."
echo "guests: 1 vCPU each; nginx: 1 worker; redis-server: no persistence; kvstore: memory only"
echo "clients in a namespace: wrk -t2 -c32 -d${DUR}s; redis-benchmark -c 50 -n 100000 (-P 16)"
echo

netns_up "$NS" "$SUB"
ip link add pvkit-bv$$ netns "$NS" type veth peer name pvkit-bh$$
ip -n "$NS" addr add "$VETH.1/24" dev pvkit-bv$$ && ip -n "$NS" link set pvkit-bv$$ up
ip addr add "$VETH.2/24" dev pvkit-bh$$ && ip link set pvkit-bh$$ up

# The native servers, in the host namespace, serving what the appliances serve.
mkdir -p "$TMP/www" "$TMP/nginx"
cp apps/httpd/rootfs/index.html "$TMP/www/"
cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $TMP/nginx/pid; error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 100000;
  server { listen $VETH.2:8080; root $TMP/www; } }
CONF
nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
native_pids+=($!)
redis-server --bind "$VETH.2" --port 6380 --save '' --appendonly no --daemonize no \
	--protected-mode no >"$TMP/redis.log" 2>&1 &
native_pids+=($!)
"$B/bench/tcpstream" sink 5001 >/dev/null &
native_pids+=($!)
sleep 0.5

wrk_rps() { # wrk_rps URL: "requests/s avg-latency p99-latency"
	ip netns exec "$NS" "${cli_pin[@]}" wrk -t2 -c32 -d"${DUR}s" --latency "$1" 2>&1 |
		awk '/Requests\/sec/ { r = $2 } $1 == "Latency" && $2 ~ /^[0-9]/ { a = $2 } / 99%/ { p = $2 }
		     END { printf "%s %s %s", r, a, p }'
}
redis_rps() { # redis_rps HOST PORT [-P n]: "set/s get/s"
	local host=$1 port=$2
	shift 2
	ip netns exec "$NS" "${cli_pin[@]}" redis-benchmark -h "$host" -p "$port" -c 50 -n 100000 -t set,get -q "$@" 2>&1 |
		tr '\r' '\n' | awk '/^SET:/ { s = $2 } /^GET:/ { g = $2 } END { printf "%s %s", s, g }'
}

# A stream that stalls (nothing acknowledged for long) is cut after DUR + 30 s, says so on
# stderr and gives no figure rather than hold the whole bench.
tcp_mbit() { # tcp_mbit HOST: megabits per second the sink acknowledged
	local out
	out=$(timeout $((DUR + 30)) ip netns exec "$NS" "${cli_pin[@]}" "$B/bench/tcpstream" source "$1" 5001 "$DUR" 2>&1 |
		sed -n 's/.*mbit_s=\([0-9.]*\).*/\1/p')
	[[ -n $out ]] || echo "bench-net: the TCP stream to $1 stalled: cut after $((DUR + 30)) s, no figure" >&2
	echo "$out"
}

declare -A res
record() { [[ -z $2 ]] || res[$1]+="$2"$'\n'; } # an empty figure (a stall) is not one

# Where things run. "split": every server, native or appliance (hv's threads and guest
# process, QEMU), on the first CPU this script may use, every client on the others, so a
# server and its client never share a CPU; "unpinned": where the scheduler puts them. Both
# are reported and judged: on the 2-CPU test host split helped the TCP stream and Redis (a
# wake-up across CPUs is dear there) and cost HTTP (the appliance's two threads on one CPU),
# and split figures swing less (five TCP rounds: native 23.0-24.5 Gbit/s against 16.7-22.7).
all_cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
server_cpu=$(awk -F'[-,]' '{ print $1 }' <<<"$all_cpus")
client_cpus=$(awk -v s="$server_cpu" -F, '{
	for (i = 1; i <= NF; i++) { n = split($i, r, "-"); lo = r[1]; hi = n > 1 ? r[2] : r[1]
		for (c = lo; c <= hi; c++) if (c != s) out = out (out == "" ? "" : ",") c }
	print out }' <<<"$all_cpus")
placements=${PLACEMENTS:-$([[ -n $client_cpus ]] && echo "split unpinned" || echo unpinned)}
place() { # place split|unpinned: the pin arrays, and the native servers moved
	local list=$all_cpus p
	hv_pin=() srv_pin=() cli_pin=()
	if [[ $1 == split ]]; then
		hv_pin=(--cpus="$server_cpu") srv_pin=(taskset -c "$server_cpu")
		cli_pin=(taskset -c "$client_cpus") list=$server_cpu
	fi
	for p in "${native_pids[@]}" $(pgrep -P "$(IFS=,; echo "${native_pids[*]}")"); do
		taskset -a -p -c "$list" "$p" >/dev/null
	done
}

# One round of every target; figures recorded under their keys with suffix $1.
round() {
	local x=$1 r=$2 p key be out
	echo "-- round $r${x:+ ($x)}"
	out=$(wrk_rps "http://$VETH.2:8080/index.html"); echo "   nginx native:          $out"; record "http-native$x" "$out"
	for be in "${backends[@]}"; do
		if guest_start "$NS" "$TMP/h.log" "serving" "$B/hv" "${hv_pin[@]}" --backend="$be" --mem=128M --net=tap0 "$B/apps/httpd.img" "ip=$SUB.2/24"; then
			out=$(wrk_rps "http://$SUB.2/index.html"); echo "   httpd on hv, $be:     $out"; record "http-hv-$be$x" "$out"
		fi
		guest_stop
	done
	if ((have_qemu)) && QEMU_OPTS="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-device,netdev=n0" \
		guest_start "$NS" "$TMP/hq.log" "serving" "${srv_pin[@]}" mk/qemu-run.sh "$B/apps/httpd.img" "ip=$SUB.2/24"; then
		out=$(wrk_rps "http://$SUB.2/index.html"); echo "   httpd on QEMU TCG:     $out"; record "http-qemu$x" "$out"
	fi
	guest_stop
	out=$(tcp_mbit "$VETH.2"); echo "   TCP stream native:     $out Mbit/s"; record "tcp-native$x" "$out"
	for be in "${backends[@]}"; do
		if guest_start "$NS" "$TMP/t.log" "sink on port" "$B/hv" "${hv_pin[@]}" --backend="$be" --mem=128M --net=tap0 "$B/bench/tcpstream.img" sink 5001 "ip=$SUB.2/24"; then
			out=$(tcp_mbit "$SUB.2"); echo "   TCP stream to hv, $be: $out Mbit/s"; record "tcp-hv-$be$x" "$out"
		fi
		guest_stop
	done
	if ((have_qemu)) && QEMU_OPTS="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-device,netdev=n0" \
		guest_start "$NS" "$TMP/tq.log" "sink on port" "${srv_pin[@]}" mk/qemu-run.sh "$B/bench/tcpstream.img" sink 5001 "ip=$SUB.2/24"; then
		out=$(tcp_mbit "$SUB.2"); echo "   TCP stream to QEMU:    $out Mbit/s"; record "tcp-qemu$x" "$out"
	fi
	guest_stop
	for p in "" "-P 16"; do
		key=${p:+-p16}
		# shellcheck disable=SC2086
		out=$(redis_rps "$VETH.2" 6380 $p); echo "   redis-server native $p: $out"; record "redis-native$key$x" "$out"
		for be in "${backends[@]}"; do
			if guest_start "$NS" "$TMP/k.log" "kvstore: ready" "$B/hv" "${hv_pin[@]}" --backend="$be" --mem=128M --net=tap0 "$B/apps/kvstore.img" "ip=$SUB.2/24"; then
				# shellcheck disable=SC2086
				out=$(redis_rps "$SUB.2" 6379 $p); echo "   kvstore on hv, $be $p: $out"; record "kv-hv-$be$key$x" "$out"
			fi
			guest_stop
		done
		if ((have_qemu)) && QEMU_OPTS="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-device,netdev=n0" \
			guest_start "$NS" "$TMP/kq.log" "kvstore: ready" "${srv_pin[@]}" mk/qemu-run.sh "$B/apps/kvstore.img" "ip=$SUB.2/24"; then
			# shellcheck disable=SC2086
			out=$(redis_rps "$SUB.2" 6379 $p); echo "   kvstore on QEMU TCG $p: $out"; record "kv-qemu$key$x" "$out"
		fi
		guest_stop
	done
}

echo "placements: ${placements// /, } (split: servers on CPU $server_cpu, clients on ${client_cpus:-none})"
first=${placements%% *}
suffix() { [[ $1 == "$first" ]] || echo "-$1"; } # the first placement's keys have none
for placement in $placements; do
	place "$placement"
	for ((r = 1; r <= RUNS; r++)); do round "$(suffix "$placement")" "$r"; done
done

med() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
col() { printf '%s' "${res[$1]:-}" | awk -v c="$2" 'NF { print $c }' | med; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }

# The medians of one placement (key suffix $1).
summary() {
	local x=$1 k p keys be
	printf '%-32s %14s %10s %10s %8s\n' "HTTP (wrk, GET /index.html)" "requests/s" "latency" "p99" "ratio"
	for k in http-native "${backends[@]/#/http-hv-}" http-qemu; do
		k=$k$x
		[[ -n ${res[$k]:-} ]] || continue
		printf '%-32s %14s %10s %10s %8s\n' "$k" "$(col $k 1)" "$(col $k 2)" "$(col $k 3)" \
			"$(ratio "$(col $k 1)" "$(col http-native$x 1)")"
	done
	printf '%-32s %14s %8s\n' "TCP stream (one connection)" "Mbit/s" "ratio"
	for k in tcp-native "${backends[@]/#/tcp-hv-}" tcp-qemu; do
		k=$k$x
		[[ -n ${res[$k]:-} ]] || continue
		printf '%-32s %14s %8s\n' "$k" "$(col $k 1)" "$(ratio "$(col $k 1)" "$(col tcp-native$x 1)")"
	done
	printf '%-32s %14s %14s %10s %10s\n' "Redis (redis-benchmark)" "SET/s" "GET/s" "SET ratio" "GET ratio"
	for p in "" -p16; do
		keys=(redis-native$p$x)
		for be in "${backends[@]}"; do keys+=("kv-hv-$be$p$x"); done
		keys+=("kv-qemu$p$x")
		for k in "${keys[@]}"; do
			[[ -n ${res[$k]:-} ]] || continue
			printf '%-32s %14s %14s %10s %10s\n' "$k" "$(col "$k" 1)" "$(col "$k" 2)" \
				"$(ratio "$(col "$k" 1)" "$(col "redis-native$p$x" 1)")" \
				"$(ratio "$(col "$k" 2)" "$(col "redis-native$p$x" 2)")"
		done
	done
}

echo
echo "== summary: medians over $RUNS rounds (ratio = appliance / native; higher is better)"
for placement in $placements; do
	echo "-- $placement${client_cpus:+$([[ $placement == split ]] && echo ": servers on CPU $server_cpu, clients on $client_cpus")}"
	summary "$(suffix "$placement")"
done
