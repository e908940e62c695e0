# SPDX-License-Identifier: MIT
# The guest's confinement: a raw system call (open, execve, socket, kill of every process it
# may signal, and the futex waits and kick writes proc allows with their arguments bent) is
# refused and ends that domain alone, with status 80 and the call named (proc: the seccomp
# filter; kvm: #UD), while a domain beside it runs to its end; the proc child holds only the
# guest, and only its kick fds beside its socket to hv. Sourced by tests/run.sh (B, HV, TMP, HV_BACKEND and the helpers of
# tests/lib.sh are set).

SC=$B/tests/integration/syscall.img

for call in open execve socket kill futex-other futex-wake futex-forever write-socket write-long; do
	case $call in
	open) nr=2 name=open ;; execve) nr=59 name=execve ;; socket) nr=41 name=socket ;;
	kill) nr=62 name=kill ;; futex-*) nr=202 name=futex ;; write-*) nr=1 name=write ;;
	esac
	if [[ $HV_BACKEND == proc ]]; then
		want="guest fault: system call $nr ($name) refused"
	else
		want="guest fault: invalid opcode (#UD), vector 6"
	fi
	timeout 20 "$HV" --name=bad "$SC" "$call" :: --name=peer "$SC" none >"$TMP/sb" 2>&1
	expect "sandbox: $call refused, only its domain ends" $? 80 "$TMP/sb" "hv: bad: $want" \
		"<main+" "hv: dom1 (bad): ended: guest fault (80)" "hv: dom2 (peer): exited with 0" \
		"SUCCESS: the peer ran to its end"
	if grep -q "FAILURE" "$TMP/sb"; then not_ok "sandbox: $call: the call returned to the guest"; fi
done

# A guest that calls the proc stub's syscall gadget (mapped in its process on proc, nothing
# there on kvm) gains nothing: the call is filtered, the gadget's trap ends the domain.
if [[ $HV_BACKEND == proc ]]; then want="breakpoint (#BP), vector 3"; else want="page fault (#PF)"; fi
timeout 20 "$HV" --name=bad "$SC" stub :: --name=peer "$SC" none >"$TMP/sb" 2>&1
expect "sandbox: a jump into the stub's gadget ends only its domain" $? 80 "$TMP/sb" \
	"hv: bad: guest fault: $want" "hv: dom2 (peer): exited with 0"
if grep -q "FAILURE" "$TMP/sb"; then not_ok "sandbox: stub: the gadget returned to the guest"; fi

if [[ $HV_BACKEND == proc ]]; then
	# Once the guest runs, its process's address space holds the guest's ranges and the stub,
	# nothing of hv's binary, and it is under a seccomp filter; its fds are its socket to hv
	# and its disk queue's kick eventfd at HV_KICK_FD(0, 0), nothing else.
	truncate -s 1M "$TMP/sb.disk"
	"$HV" --disk="$TMP/sb.disk" "$B/tests/integration/sleeper.img" >"$TMP/sb" 2>&1 &
	sb_pid=$!
	child=
	for _ in $(seq 100); do
		grep -q "sleeper: sleeping" "$TMP/sb" && child=$(pgrep -P "$sb_pid" | head -n 1)
		[[ -n $child ]] && break
		sleep 0.05
	done
	if [[ -n $child && -r /proc/$child/maps ]]; then
		hv_path=$(readlink -f "$HV")
		if grep -qF "$hv_path" "/proc/$child/maps"; then
			not_ok "sandbox: the guest's process maps hv's binary"
		else
			ok "sandbox: the guest's process maps nothing of hv ($(wc -l <"/proc/$child/maps") mappings)"
		fi
		fds=$(for f in /proc/"$child"/fd/*; do echo "${f##*/}:$(readlink "$f" | sed 's/:\[[0-9]*\]//')"; done | sort -n | tr '\n' ' ')
		if [[ $fds == "1:socket 16:anon_inode:[eventfd] " ]]; then
			ok "sandbox: the guest's process holds its socket and its kick fd only ($fds)"
		else
			not_ok "sandbox: the guest's process holds fds $fds, want 1:socket 16:anon_inode:[eventfd]"
		fi
		seccomp=$(sed -n 's/^Seccomp:\t//p' "/proc/$child/status")
		if [[ $seccomp == 2 ]]; then ok "sandbox: the guest's process runs under a seccomp filter"
		else not_ok "sandbox: the guest's process has Seccomp: ${seccomp:-?}, want 2 (filter)"; fi
	else
		not_ok "sandbox: no guest process found under hv (pid $sb_pid)"
	fi
	kill "$sb_pid" 2>/dev/null
	wait "$sb_pid" 2>/dev/null

	# The child's mechanics on their own: traps, the filter call by call, grant maps, kicks.
	"$B/tests/proc_child_test" >"$TMP/sb" 2>&1
	expect "sandbox: proc_child_test ($(tail -n 1 "$TMP/sb"))" $? 0 "$TMP/sb" " passed, 0 failed"
	grep -E "^FAIL|^not ok" "$TMP/sb" | sed 's/^/    /'
fi
