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
# summary is the median over RUNS rounds.
# Usage: bench/net.sh BUILD_DIR   (RUNS=n rounds, default 3; SECONDS_PER=n wrk duration;
#        BACKENDS="kvm proc" to choose the backends)
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
	ip netns exec "$NS" wrk -t2 -c32 -d"${DUR}s" --latency "$1" 2>&1 |
		awk '/Requests\/sec/ { r = $2 } $1 == "Latency" && $2 ~ /^[0-9]/ { a = $2 } / 99%/ { p = $2 }
		     END { printf "%s %s %s", r, a, p }'
}
redis_rps() { # redis_rps HOST PORT [-P n]: "set/s get/s"
	local host=$1 port=$2
	shift 2
	ip netns exec "$NS" redis-benchmark -h "$host" -p "$port" -c 50 -n 100000 -t set,get -q "$@" 2>&1 |
		tr '\r' '\n' | awk '/^SET:/ { s = $2 } /^GET:/ { g = $2 } END { printf "%s %s", s, g }'
}

# A stream that stalls (nothing acknowledged for long) is cut after DUR + 30 s, says so on
# stderr and gives no figure rather than hold the whole bench.
tcp_mbit() { # tcp_mbit HOST: megabits per second the sink acknowledged
	local out
	out=$(timeout $((DUR + 30)) ip netns exec "$NS" "$B/bench/tcpstream" source "$1" 5001 "$DUR" 2>&1 |
		sed -n 's/.*mbit_s=\([0-9.]*\).*/\1/p')
	[[ -n $out ]] || echo "bench-net: the TCP stream to $1 stalled: cut after $((DUR + 30)) s, no figure" >&2
	echo "$out"
}

declare -A res
record() { [[ -z $2 ]] || res[$1]+="$2"$'\n'; } # an empty figure (a stall) is not one

for ((r = 1; r <= RUNS; r++)); do
	echo "-- round $r"
	out=$(wrk_rps "http://$VETH.2:8080/index.html"); echo "   nginx native:          $out"; record http-native "$out"
	for be in "${backends[@]}"; do
		if guest_start "$NS" "$TMP/h.log" "serving" "$B/hv" --backend="$be" --mem=128M --net=tap0 "$B/apps/httpd.img" "ip=$SUB.2/24"; then
			out=$(wrk_rps "http://$SUB.2/index.html"); echo "   httpd on hv, $be:     $out"; record "http-hv-$be" "$out"
		fi
		guest_stop
	done
	if ((have_qemu)) && QEMU_OPTS="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-device,netdev=n0" \
		guest_start "$NS" "$TMP/hq.log" "serving" mk/qemu-run.sh "$B/apps/httpd.img" "ip=$SUB.2/24"; then
		out=$(wrk_rps "http://$SUB.2/index.html"); echo "   httpd on QEMU TCG:     $out"; record http-qemu "$out"
	fi
	guest_stop
	out=$(tcp_mbit "$VETH.2"); echo "   TCP stream native:     $out Mbit/s"; record tcp-native "$out"
	for be in "${backends[@]}"; do
		if guest_start "$NS" "$TMP/t.log" "sink on port" "$B/hv" --backend="$be" --mem=128M --net=tap0 "$B/bench/tcpstream.img" sink 5001 "ip=$SUB.2/24"; then
			out=$(tcp_mbit "$SUB.2"); echo "   TCP stream to hv, $be: $out Mbit/s"; record "tcp-hv-$be" "$out"
		fi
		guest_stop
	done
	if ((have_qemu)) && QEMU_OPTS="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-device,netdev=n0" \
		guest_start "$NS" "$TMP/tq.log" "sink on port" mk/qemu-run.sh "$B/bench/tcpstream.img" sink 5001 "ip=$SUB.2/24"; then
		out=$(tcp_mbit "$SUB.2"); echo "   TCP stream to QEMU:    $out Mbit/s"; record tcp-qemu "$out"
	fi
	guest_stop
	for p in "" "-P 16"; do
		key=${p:+-p16}
		# shellcheck disable=SC2086
		out=$(redis_rps "$VETH.2" 6380 $p); echo "   redis-server native $p: $out"; record "redis-native$key" "$out"
		for be in "${backends[@]}"; do
			if guest_start "$NS" "$TMP/k.log" "kvstore: ready" "$B/hv" --backend="$be" --mem=128M --net=tap0 "$B/apps/kvstore.img" "ip=$SUB.2/24"; then
				# shellcheck disable=SC2086
				out=$(redis_rps "$SUB.2" 6379 $p); echo "   kvstore on hv, $be $p: $out"; record "kv-hv-$be$key" "$out"
			fi
			guest_stop
		done
		if ((have_qemu)) && QEMU_OPTS="-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-device,netdev=n0" \
			guest_start "$NS" "$TMP/kq.log" "kvstore: ready" mk/qemu-run.sh "$B/apps/kvstore.img" "ip=$SUB.2/24"; then
			# shellcheck disable=SC2086
			out=$(redis_rps "$SUB.2" 6379 $p); echo "   kvstore on QEMU TCG $p: $out"; record "kv-qemu$key" "$out"
		fi
		guest_stop
	done
done

med() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
col() { printf '%s' "${res[$1]:-}" | awk -v c="$2" 'NF { print $c }' | med; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "n/a" }'; }

echo
echo "== summary: medians over $RUNS rounds (ratio = appliance / native; higher is better;"
echo "   the target for HTTP and Redis: within 1.5x of nginx and redis-server, a ratio of 0.67 or more)"
printf '%-32s %14s %10s %10s %8s\n' "HTTP (wrk, GET /index.html)" "requests/s" "latency" "p99" "ratio"
for k in http-native "${backends[@]/#/http-hv-}" http-qemu; do
	[[ -n ${res[$k]:-} ]] || continue
	printf '%-32s %14s %10s %10s %8s\n' "$k" "$(col $k 1)" "$(col $k 2)" "$(col $k 3)" \
		"$(ratio "$(col $k 1)" "$(col http-native 1)")"
done
printf '%-32s %14s %8s\n' "TCP stream (one connection)" "Mbit/s" "ratio"
for k in tcp-native "${backends[@]/#/tcp-hv-}" tcp-qemu; do
	[[ -n ${res[$k]:-} ]] || continue
	printf '%-32s %14s %8s\n' "$k" "$(col $k 1)" "$(ratio "$(col $k 1)" "$(col tcp-native 1)")"
done
printf '%-32s %14s %14s %10s %10s\n' "Redis (redis-benchmark)" "SET/s" "GET/s" "SET ratio" "GET ratio"
for p in "" -p16; do
	keys=(redis-native$p)
	for be in "${backends[@]}"; do keys+=("kv-hv-$be$p"); done
	keys+=("kv-qemu$p")
	for k in "${keys[@]}"; do
		[[ -n ${res[$k]:-} ]] || continue
		printf '%-32s %14s %14s %10s %10s\n' "$k" "$(col "$k" 1)" "$(col "$k" 2)" \
			"$(ratio "$(col "$k" 1)" "$(col "redis-native$p" 1)")" "$(ratio "$(col "$k" 2)" "$(col "redis-native$p" 2)")"
	done
done
