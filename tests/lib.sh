# SPDX-License-Identifier: MIT
# Helpers for the test scripts: result lines, counters, the summary, and what the host can do.

passed=0 failed=0 skipped=0 skip_reasons=()

section() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; passed=$((passed + 1)); }
not_ok() { printf 'FAIL - %s\n' "$*"; failed=$((failed + 1)); }
skip() {
	printf 'SKIP - %s\n' "$*"
	skipped=$((skipped + 1))
	skip_reasons+=("$*")
}

# Tests of the kvm backend need /dev/kvm; where it is absent they skip (and say so), and the
# same tests run on the proc backend, which every Linux host has.
kvm_usable() { [[ -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; }

# The backends hv can run guests with here, each tested: kvm where /dev/kvm is usable, proc always.
hv_backends() {
	if kvm_usable; then echo kvm; fi
	echo proc
}

# expect NAME STATUS WANT_STATUS FILE [SUBSTRING...]: the status matches and FILE holds each
# substring.
expect() {
	local name=$1 status=$2 want=$3 file=$4 s problems=()
	shift 4
	[[ $status == "$want" ]] || problems+=("exit status $status, expected $want")
	for s; do grep -qF -- "$s" "$file" || problems+=("output lacks: $s"); done
	if ((${#problems[@]} == 0)); then ok "$name"; else
		not_ok "$name"
		printf '    %s\n' "${problems[@]}"
		sed 's/^/    output: /' "$file" | head -n 15
	fi
}

# wait_line FILE REGEX PID SECONDS: until a line of FILE matches REGEX (grep -E), PID has
# ended, or SECONDS passed, looking every 50 ms.
wait_line() {
	local i
	for ((i = 0; i < $4 * 20; i++)); do
		grep -qE -- "$2" "$1" && return
		kill -0 "$3" 2>/dev/null || return
		sleep 0.05
	done
}

summary() {
	local r
	if ((skipped > 0)); then
		printf '\nSkipped, with the reason:\n'
		for r in "${skip_reasons[@]}"; do printf '  %s\n' "$r"; done
	fi
	printf '\n%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	((failed == 0))
}

# --- network namespaces for tests: a tap device in a namespace of the test's own; hv runs
# inside the namespace (it opens the tap by name there) and so do the clients. -------------

# netns_up NAME SUBNET: namespace NAME with tap0 at SUBNET.1/24 (SUBNET like 10.77.0).
netns_up() {
	local ns=$1 subnet=$2
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns" &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" tuntap add tap0 mode tap &&
		ip -n "$ns" addr add "$subnet.1/24" dev tap0 &&
		ip -n "$ns" link set tap0 up
}

netns_down() {
	ip netns del "$1" 2>/dev/null || true
}

# Network tests need root (namespaces, tap devices); they skip, not pass, without it.
net_usable() { [[ $EUID == 0 ]] && command -v ip >/dev/null && [[ -c /dev/net/tun ]]; }

# guest_start NS LOG READY_REGEX HV_ARGS...: start hv in NS in the background, wait up to 20 s
# for READY_REGEX in its output. Sets GUEST_PID. Returns 1 (with the log shown) if it never
# becomes ready.
guest_start() {
	local ns=$1 log=$2 ready=$3
	shift 3
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	GUEST_PID=$!
	for _ in $(seq 200); do
		grep -qE "$ready" "$log" && return 0
		kill -0 "$GUEST_PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/    guest: /' "$log" | tail -n 20
	return 1
}

guest_stop() {
	[[ -n ${GUEST_PID:-} ]] || return 0
	kill "$GUEST_PID" 2>/dev/null || true
	wait "$GUEST_PID" 2>/dev/null || true
	GUEST_PID=
}

# hv_has OPTION: this hv build offers OPTION (e.g. --net=).
# (grep reads all the help: with -q it would stop at the match, and hv die of SIGPIPE.)
hv_has() { "$HV" --help 2>/dev/null | grep -- "$1" >/dev/null; }
