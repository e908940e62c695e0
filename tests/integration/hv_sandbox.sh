# SPDX-License-Identifier: MIT
# hv's own sandbox (hv-iface/hv/sandbox.c): once its guests are started, hv runs as an
# unprivileged user under a seccomp filter, and a system call outside the filter ends it
# with 71 and the call named. A bug in hv is played by tests/integration/hv_probe.c,
# preloaded: a thread that makes one forbidden call while the guest runs. With --no-sandbox
# the same call goes through and the guest runs to its end. Sourced by tests/run.sh (B, HV,
# TMP, HV_BACKEND and the helpers of tests/lib.sh are set).

PROBE=$B/tests/hv_probe.so
# Under SANITIZE=1 hv is ASan's, which wants its runtime first among preloads: the probe is
# second, which is harmless here.
PROBE_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
SLEEPER=$B/tests/integration/sleeper.img
SHORT=$B/tests/guest/sleep.img

# What /proc says of a running hv started as this user: its uid, seccomp mode, no_new_privs.
"$HV" "$SLEEPER" >"$TMP/hs" 2>&1 &
hs_pid=$!
for _ in $(seq 100); do grep -q "sleeper: sleeping" "$TMP/hs" && break; sleep 0.05; done
status=$(grep -E '^(Uid|Seccomp|NoNewPrivs):' "/proc/$hs_pid/status" 2>/dev/null | tr -s '\t' ' ')
kill -TERM "$hs_pid" 2>/dev/null
wait "$hs_pid" 2>/dev/null
if [[ $EUID == 0 ]]; then want_uid=65534; else want_uid=$EUID; fi
if [[ $status == *"Uid: $want_uid $want_uid $want_uid $want_uid"* && $status == *"Seccomp: 2"* &&
	$status == *"NoNewPrivs: 1"* ]]; then
	ok "hv sandbox: a running hv is user $want_uid, under a seccomp filter, no new privileges"
else
	not_ok "hv sandbox: a running hv's /proc status: ${status:-none}"
fi

# Each forbidden call ends hv, named; the guest never finishes.
for call in openat execve socket fork mmap_exec kill ioctl ptrace; do
	case $call in
	openat) nr=257 ;; execve) nr=59 ;; socket) nr=41 ;; fork) nr=56 ;; mmap_exec) nr=9 ;;
	kill) nr=62 ;; ioctl) nr=16 ;; ptrace) nr=101 ;;
	esac
	[[ $call == ptrace && $HV_BACKEND == proc ]] && continue # the proc backend's own call
	timeout 20 env ASAN_OPTIONS="$PROBE_ASAN" HV_PROBE=$call LD_PRELOAD="$PROBE" "$HV" "$SLEEPER" >"$TMP/hs" 2>&1
	expect "hv sandbox: $call from a thread of hv ends it (71, named)" $? 71 "$TMP/hs" \
		"hv: sandbox: system call $nr" "refused; hv stops"
	if grep -q "hv_probe: $call returned" "$TMP/hs"; then
		not_ok "hv sandbox: $call returned to hv"
	fi
done

# --no-sandbox: the same call goes through, and the guest runs to its end.
timeout 20 env ASAN_OPTIONS="$PROBE_ASAN" HV_PROBE=openat HV_PROBE_MS=0 LD_PRELOAD="$PROBE" \
	"$HV" --no-sandbox "$SHORT" \
	>"$TMP/hs" 2>&1
expect "hv sandbox: --no-sandbox lets the call through, the guest ends normally" $? 0 \
	"$TMP/hs" "hv_probe: openat returned" SUCCESS

# A config file cannot turn the sandbox off.
printf -- '--no-sandbox %s\n' "$SHORT" >"$TMP/hs.conf"
timeout 20 "$HV" --config="$TMP/hs.conf" >"$TMP/hs" 2>&1
expect "hv sandbox: --no-sandbox is refused in a config file" $? 64 "$TMP/hs" \
	"--no-sandbox is not allowed in a config file"
