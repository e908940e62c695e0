# SPDX-License-Identifier: MIT
# Integration tests of build/hv itself: its command line, the loader's refusals, the backend's
# choice and /dev/kvm errors, hello end to end, --stats, and hv surviving scrambled images. Sourced by tests/run.sh
# (B, HV, TMP and the helpers of tests/lib.sh are set).

HELLO=$B/apps/hello.img
ELFMUT=$B/tests/elfmut

# hv_case NAME WANT_STATUS SUBSTRINGS... -- HV_ARGS...: run hv, check status and its output.
hv_case() {
	local name=$1 want=$2 subs=() status
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	timeout 20 "$HV" "$@" >"$TMP/out" 2>&1
	status=$?
	expect "$name" "$status" "$want" "$TMP/out" "${subs[@]}"
}

hv_case "hello runs and exits 0" 0 "Hello from the hello appliance!" 'argv[1] = "x y"' \
	"pi is about 3.14" "monotonic time since boot" -- "$HELLO" "x y"
hv_case "--stats reports exits and the time split" 0 "stats:" "exits in" "guest" "blocked" \
	"console_write" -- --stats "$HELLO"
hv_case "--help" 0 "Usage: hv [OPTIONS] IMAGE [ARGS...]" "--mem=SIZE" "--stats" \
	"80  the guest took a CPU exception" -- --help
hv_case "no image" 64 "hv: no image given" --
hv_case "unknown option" 64 "hv: unknown option '--bogus'" -- --bogus "$HELLO"
hv_case "missing image" 66 "hv: $TMP/missing.img: No such file or directory" -- "$TMP/missing.img"
hv_case "image is a directory" 66 "not a regular file" -- "$TMP"
echo "just text" >"$TMP/text.img"
hv_case "not an ELF" 65 "not an ELF file" -- "$TMP/text.img"
: >"$TMP/empty.img"
hv_case "empty file" 65 "not an ELF file" -- "$TMP/empty.img"
hv_case "--mem unparsable" 64 "--mem=lots: not a size" -- --mem=lots "$HELLO"
hv_case "--mem not page-sized" 64 "--mem=1000: must be a non-zero multiple of 4K" -- --mem=1000 "$HELLO"
hv_case "--mem too large" 64 "--mem=4G: too large" -- --mem=4G "$HELLO"
hv_case "--mem too small for the image" 64 "--mem=2M is too small for this image (it needs at least 4M)" \
	-- --mem=2M "$HELLO"
hv_case "--mem=8M boots hello" 0 "Hello from" -- --mem=8M "$HELLO"
hv_case "--mem=1G boots hello" 0 "Hello from" -- --mem=1G "$HELLO"

# The loader's refusals, each on a variant of hello.img.
mutant() { # mutant NAME MUTATION WANT_STATUS SUBSTRING [HV_OPTIONS...]
	local name=$1 m=$2 want=$3 sub=$4
	shift 4
	"$ELFMUT" "$HELLO" "$TMP/$m.img" "$m" || { not_ok "$name (elfmut $m failed)"; return; }
	hv_case "$name" "$want" "$sub" -- "$@" "$TMP/$m.img"
}
mutant "ELF32 image" class32 65 "ELF class 1 is not ELF64"
mutant "big-endian image" bigendian 65 "is not little-endian"
mutant "image for another machine" machine 65 "ELF machine 183 is not x86-64"
mutant "not a static executable" type 65 "is not a static executable"
mutant "truncated header" truncate 65 "truncated ELF header"
mutant "program headers past the end" phoff 65 "program headers beyond the end of the file"
mutant "segment in the boot area" boot-area 65 "overlaps hv's boot area (below 0x100000)"
mutant "segment outside guest memory" outside 65 "lies outside guest memory"
mutant "segment bigger than --mem" huge 64 "is too small for this image (it needs at least 68M)"
mutant "entry outside the image" entry 65 "entry point 0x50000000 is not inside an executable segment"
mutant "entry in a data segment" entry-data 65 "is not inside an executable segment"
mutant "no ABI note" no-note 65 "no hv ABI note: not an image built for hv"
mutant "wrong ABI version" note-version 65 "image speaks hv ABI version 99, this hv speaks $(sed -n 's/^#define HV_ABI_VERSION //p' hv-iface/include/hv_abi.h)"
mutant "overlapping segments" overlap 65 "overlaps another segment"

# /dev/kvm errors with --backend=kvm: a mount namespace without it, and a user without access
# to it. Without --backend (auto), the same hosts run the guest on proc.
if unshare -m true 2>/dev/null; then
	unshare -m bash -c "mount -t tmpfs none /dev && exec '$HV' --backend=kvm '$HELLO'" >"$TMP/out" 2>&1
	expect "/dev/kvm missing" $? 69 "$TMP/out" "/dev/kvm does not exist" "modprobe" "--backend=proc"
	unshare -m bash -c "mount -t tmpfs none /dev && HV_BACKEND= exec '$HV' --stats '$HELLO'" >"$TMP/out" 2>&1
	expect "/dev/kvm missing: auto runs the guest on proc" $? 0 "$TMP/out" \
		"Hello from the hello appliance!" "stats: backend proc"
else
	skip "/dev/kvm missing: cannot make a mount namespace here (needs root)"
fi
if [[ $EUID == 0 ]] && command -v setpriv >/dev/null; then
	install -m 755 -d "$TMP/pub" && install -m 644 "$HELLO" "$TMP/pub/hello.img"
	chmod 755 "$TMP"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$HV" --backend=kvm "$TMP/pub/hello.img" \
		>"$TMP/out" 2>&1
	status=$?
	if [[ -c /dev/kvm ]]; then
		expect "/dev/kvm not permitted" $status 69 "$TMP/out" "/dev/kvm: permission denied" \
			"usermod -aG kvm"
	else
		expect "/dev/kvm missing, as another user" $status 69 "$TMP/out" "/dev/kvm does not exist"
	fi
	# proc needs no privilege: an ordinary user runs the guest.
	setpriv --reuid=65534 --regid=65534 --clear-groups "$HV" --backend=proc "$TMP/pub/hello.img" \
		>"$TMP/out" 2>&1
	expect "proc runs the guest for an unprivileged user" $? 0 "$TMP/out" \
		"Hello from the hello appliance!"
else
	skip "/dev/kvm not permitted: needs root to run hv as another user"
fi
if kvm_usable; then auto=kvm; else auto=proc; fi
hv_case "--help says which backend auto takes here" 0 "--backend=kvm|proc|auto" \
	"On this host --backend=auto runs guests on $auto" -- --help
hv_case "--backend=bogus is a usage error" 64 "--backend=bogus: the backends are kvm, proc and auto" \
	-- --backend=bogus "$HELLO"
HV_BACKEND=bogus "$HV" "$HELLO" >"$TMP/out" 2>&1
expect "HV_BACKEND=bogus is a usage error" $? 64 "$TMP/out" "HV_BACKEND=bogus: the backends are"
hv_case "--backend overrides HV_BACKEND, and --stats names it" 0 "stats: backend $HV_BACKEND" \
	-- --stats --backend="$HV_BACKEND" "$HELLO"

# Scrambled headers never crash hv: every run ends with a documented status, not a signal.
bad=()
for seed in $(seq 1 150); do
	"$ELFMUT" "$HELLO" "$TMP/scr.img" "scramble:$seed" || { bad+=("$seed:elfmut"); continue; }
	timeout 10 "$HV" "$TMP/scr.img" >/dev/null 2>"$TMP/scr.err"
	status=$?
	case $status in
	0 | 64 | 65 | 80 | 81 | 82) ;;
	*) bad+=("seed $seed: status $status: $(head -c 200 "$TMP/scr.err")") ;;
	esac
done
if ((${#bad[@]} == 0)); then ok "150 scrambled images: hv never crashed or hung"; else
	not_ok "scrambled images"; printf '    %s\n' "${bad[@]}" | head -n 10; fi

# --cpus: the domain's threads (vCPU, a disk's I/O thread) and the guest's process keep to
# the CPU given; hv's main thread does not. The CPU is the last this shell may use.
cpu=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | tr ',' '\n' | tail -n 1)
cpu=${cpu##*-}
truncate -s 1M "$TMP/cpus.disk"
"$HV" --cpus="$cpu" --disk="$TMP/cpus.disk" "$B/tests/integration/sleeper.img" >"$TMP/cpus.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sleeping" "$TMP/cpus.out" && break; sleep 0.1; done
lists=()
for t in /proc/"$pid"/task/*; do
	lists+=("$(cat "$t/comm"):$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status")")
done
child=$(pgrep -P "$pid" | head -n 1)
[[ -n $child ]] && lists+=("guest:$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$child/status")")
kill -TERM "$pid"
wait "$pid"
main=${lists[0]#*:}
pinned=$(printf '%s\n' "${lists[@]:1}" | grep -c ":$cpu\$")
if [[ $HV_BACKEND == proc && -z $child ]]; then
	not_ok "--cpus=$cpu: no guest process found"
elif ((${#lists[@]} >= 3 && pinned == ${#lists[@]} - 1)) && [[ $main != "$cpu" || $(nproc) == 1 ]]; then
	ok "--cpus=$cpu: the vCPU thread, the disk's thread and the guest keep to CPU $cpu" \
		"(${lists[*]})"
else
	not_ok "--cpus=$cpu: CPUs allowed: ${lists[*]}"
fi
hv_case "--cpus: a CPU hv may not run on is refused" 64 "--cpus=1023: hv may not run on CPU 1023" \
	-- --cpus=1023 "$HELLO"
hv_case "--cpus: not a list" 64 "--cpus=1,x: not a CPU list (try 0, 2-3 or 0,2-3)" \
	-- --cpus=1,x "$HELLO"

# A stop signal ends the VM cleanly: hv says so, prints --stats, and exits with 128 + signal.
"$HV" --stats "$B/tests/integration/sleeper.img" >"$TMP/sig.out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "sleeping" "$TMP/sig.out" && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
expect "SIGTERM ends the VM with 143 and its stats" $? 143 "$TMP/sig.out" \
	"stopped by signal 15" "stats:" "blocked"
