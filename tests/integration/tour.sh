# SPDX-License-Identifier: MIT
# The guided tour (docs/tour/) against the tree it describes: every code reference names the
# line its quoted code is on (tests/tour-check.py refs), every command of a ```console block
# prints what the tour shows (tests/tour-check.py commands), and every exercise's solution
# (docs/tour/solutions/) does what its chapter asks, built in a scratch copy of the sources
# that reuses this build: hv's objects are copied with their times, so make rebuilds only
# what a patch touches, and libos, lwIP and newlib are linked as they are (make -o).
# The outputs the tour shows are the proc backend's, which every host has: the tour runs in
# the proc pass, its commands with HV_BACKEND=proc. About 30 s.
# Sourced by tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

TOUR_SOL=docs/tour/solutions

# tour_results FILE: the checker's "ok - " and "FAIL - " lines as results, details below.
tour_results() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "tour: ${line#ok - }" ;;
		"FAIL - "*) not_ok "tour: ${line#FAIL - }" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$1"
}

# tour_tree DIR: a copy of the sources at DIR whose build/ reuses this build's hv objects
# (copied, times kept), toolchain, newlib, lwIP headers and archives (linked).
tour_tree() {
	local dir=$1 b x
	b=$(cd "$B" && pwd)
	mkdir -p "$dir/build" &&
		cp -a Makefile mk hv-iface libos platforms tests "$dir/" &&
		cp -a "$b/host" "$dir/build/" || return
	for x in toolchain sysroot src deps libos.a liblwip.a; do
		ln -s "$b/$x" "$dir/build/$x" || return
	done
}

# tour_make DIR LOG TARGET...: make TARGETs in DIR, taking libos, lwIP and the dependencies
# as built. Its output goes to LOG.
tour_make() {
	local dir=$1 log=$2
	shift 2
	make -C "$dir" -o build/libos.a -o build/liblwip.a -o build/deps/.done "$@" >"$log" 2>&1
}

# tour_build NAME DIR TARGET...: tour_make, as a result line when it fails (then 1).
tour_build() {
	local name=$1 dir=$2
	shift 2
	tour_make "$dir" "$TMP/tour-make.log" "$@" && return 0
	not_ok "tour: $name: make $*"
	tail -n 20 "$TMP/tour-make.log" | sed 's/^/    /'
	return 1
}

# tour_patch NAME DIR PATCH: apply a solution's patch to the copy in DIR (then 0).
tour_patch() {
	if patch -s -p1 -d "$2" <"$3" >"$TMP/tour-patch.log" 2>&1; then return 0; fi
	not_ok "tour: $1: $3 does not apply to this tree"
	sed 's/^/    /' "$TMP/tour-patch.log"
	return 1
}

# Exercise 0: each backend by name; kvm is refused here when /dev/kvm is missing.
tour_ex0() {
	local out=$TMP/tour-ex0 status want_kvm="--backend=kvm: exit status 69"
	HV=$HV bash "$TOUR_SOL/00-backend.sh" >"$out" 2>&1
	status=$?
	kvm_usable && want_kvm="--backend=kvm: exit status 0"
	expect "tour: exercise 0: hello on each backend by name" "$status" 0 "$out" \
		"--backend=proc: exit status 0" \
		"stats: backend proc (an exit is a stop of the guest's process that hv served)" \
		"stats: 5 exits in" "$want_kvm"
}

# Exercise 1: an app that prints the boot info's memory map and devices.
tour_ex1() {
	local out=$TMP/tour-ex1
	mkdir -p "$TOUR_BASE/apps/memmap" && cp "$TOUR_SOL/01-memmap.c" "$TOUR_BASE/apps/memmap/memmap.c"
	tour_build "exercise 1" "$TOUR_BASE" build/apps/memmap.img || return
	truncate -s 1M "$TMP/tour-disk.img"
	timeout 20 "$HV" --mem=16M --disk="$TMP/tour-disk.img" "$TOUR_BASE/build/apps/memmap.img" \
		>"$out" 2>&1
	expect "tour: exercise 1: the boot info's memory map" $? 0 "$out" \
		"domain 1, ABI version 3, argc 1" \
		"hv     [0x00000000, 0x00100000)   1024 KiB" \
		"shared [0x000ff000, 0x00100000)      4 KiB" \
		"image  [0x00100000, 0x" \
		"stack  [0x00f00000, 0x01000000)   1024 KiB" \
		"device 0: virtio ID 2 at 0xc0000000, 1 queue(s) from event port 1" \
		"shared info at 0xff000, send ring at 0xfa000, grant window at 0xd0000000"
}

# tour_prepare WHAT DIR SOLUTION TEST: the tree copied to DIR, SOLUTION.patch applied, the
# solution's guest test SOLUTION.c in as tests/guest/TEST.c, hv and TEST.img built.
tour_prepare() {
	cp -a "$TOUR_BASE" "$2" && tour_patch "$1" "$2" "$TOUR_SOL/$3.patch" || return 1
	cp "$TOUR_SOL/$3.c" "$2/tests/guest/$4.c"
	tour_build "$1" "$2" build/hv "build/tests/guest/$4.img"
}

# Exercise 2: the domid hypercall (a patch to the ABI and the dispatcher) and a guest test.
tour_ex2() {
	local dir=$TMP/tour-ex2 out=$TMP/tour-ex2.out img
	tour_prepare "exercise 2" "$dir" 02-domid domid || return
	img=$dir/build/tests/guest/domid.img
	timeout 20 "$dir/build/hv" --stats "$img" >"$out" 2>&1
	expect "tour: exercise 2: the domid hypercall answers 1" $? 0 "$out" \
		"domid 1 (the boot info says 1)" "stats:     domid        1"
	timeout 20 "$dir/build/hv" "$B/apps/hello.img" :: "$img" >"$out" 2>&1
	expect "tour: exercise 2: and 2 to the second domain" $? 0 "$out" \
		"domid 2 (the boot info says 2)" "hv: dom2 (domid.img): exited with 0"
	# The image on an hv without the call: the ABI's rule for a call hv does not know.
	timeout 20 "$HV" "$img" >"$out" 2>&1
	expect "tour: exercise 2: hv as it is ends that guest: unknown hypercall 7" $? 81 "$out" \
		"unknown hypercall 7"
}

# Exercise 3: virtio-blk offers VIRTIO_BLK_F_BLK_SIZE (a patch) and a guest test reads it.
tour_ex3() {
	local dir=$TMP/tour-ex3 out=$TMP/tour-ex3.out img
	tour_prepare "exercise 3" "$dir" 03-blk-size blk_size || return
	img=$dir/build/tests/guest/blk_size.img
	truncate -s 1M "$TMP/tour-disk.img"
	timeout 20 "$dir/build/hv" --disk="$TMP/tour-disk.img" "$img" >"$out" 2>&1
	expect "tour: exercise 3: virtio-blk offers BLK_SIZE, 512, and a driver may take it" $? 0 \
		"$out" "blk_size 512, negotiated" SUCCESS
	# Without the patch the feature is not offered: the exercise is still to do in hv.
	timeout 20 "$HV" --disk="$TMP/tour-disk.img" "$img" >"$out" 2>&1
	expect "tour: exercise 3: hv as it is does not offer BLK_SIZE" $? 1 "$out" \
		"FAILURE: " "VIRTIO_BLK_F_BLK_SIZE"
}

# stat_of FILE DOMAIN KIND: the count of a --stats line ("hv: DOMAIN: stats:   KIND  N").
tour_stat() {
	sed -n "s/^hv: $2: stats: *$3 *\([0-9]*\)\$/\1/p" "$1" | head -n 1
}

# tour_range NAME VALUE LO HI: a result: VALUE is a number from LO to HI.
tour_range() {
	if [[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)); then
		ok "tour: $1: $2"
	else
		not_ok "tour: $1: '$2', expected $3 to $4"
	fi
}

# Exercise 4: the exits of 100 timed (1000 untimed) event round trips, by hypercall and by
# the send ring. Each send by hypercall is an exit; through the ring none, but on proc every
# doorbell the guest rings is one (kvm takes them as ioeventfds).
tour_ex4() {
	local out=$TMP/tour-ex4 hc ring d
	HV=$HV bash "$TOUR_SOL/04-count-exits.sh" >"$out" 2>&1
	hc=$(sed -n '/^send=hypercall/,/^send=ring/p' "$out")
	ring=$(sed -n '/^send=ring/,$p' "$out")
	for d in server client; do
		tour_range "exercise 4: $d's evtchn_op exits, sends by hypercall" \
			"$(tour_stat <(printf '%s\n' "$hc") "$d" evtchn_op)" 1100 1110
		tour_range "exercise 4: $d's evtchn_op exits, sends through the ring" \
			"$(tour_stat <(printf '%s\n' "$ring") "$d" evtchn_op)" 1 10
		tour_range "exercise 4: $d's mmio exits (doorbells) through the ring, on proc" \
			"$(tour_stat <(printf '%s\n' "$ring") "$d" mmio)" 1 1100
	done
}

# Exercise 5: one page shared between two domains by a grant.
tour_ex5() {
	local out=$TMP/tour-ex5 img
	mkdir -p "$TOUR_BASE/apps/share" && cp "$TOUR_SOL/05-share.c" "$TOUR_BASE/apps/share/share.c"
	tour_build "exercise 5" "$TOUR_BASE" build/apps/share.img || return
	img=$TOUR_BASE/build/apps/share.img
	timeout 20 "$HV" --stats "$img" granter :: "$img" mapper >"$out" 2>&1
	expect "tour: exercise 5: a page granted, mapped, written by the grantee, taken back" $? 0 \
		"$out" "granter: page 0x" \
		"mapper: ref 8 of domain 1 is at 0xd0000000 here: \"hello from domain 1\"" \
		"granter: my own page now says \"reply from domain 2\"" \
		"granter: end of access while domain 2 maps the page: -16 (Device or resource busy)" \
		"granter: access ended once domain 2 unmapped" "stats: grants: 1 maps, 1 unmaps" \
		"hv: dom1 (share.img): exited with 0" "hv: dom2 (share.img): exited with 0"
}

# Exercise 6: the guest's privilege level, and a privileged instruction refused.
tour_ex6() {
	local out=$TMP/tour-ex6 img
	mkdir -p "$TOUR_BASE/apps/ring" && cp "$TOUR_SOL/06-ring.c" "$TOUR_BASE/apps/ring/ring.c"
	tour_build "exercise 6" "$TOUR_BASE" build/apps/ring.img || return
	img=$TOUR_BASE/build/apps/ring.img
	timeout 20 "$HV" "$img" >"$out" 2>&1
	expect "tour: exercise 6: the guest runs in ring 3 (Linux's user CS on proc)" $? 0 "$out" \
		"CS 0x33: ring 3"
	timeout 20 "$HV" "$img" cli >"$out" 2>&1
	expect "tour: exercise 6: cli in ring 3 is a #GP" $? 80 "$out" "CS 0x33: ring 3" \
		"general protection fault (#GP), vector 13" "<main+"
}

tour_run() {
	local start=$SECONDS
	TOUR_BASE=$TMP/tour-base
	python3 tests/tour-check.py refs >"$TMP/tour-refs" 2>&1
	tour_results "$TMP/tour-refs"
	# The commands name build/, as a reader types them: they need this run's build to be it.
	if [[ $(cd "$B" && pwd) != "$(pwd)/build" ]]; then
		skip "tour: the chapters' commands name build/, and this run's build is $B"
	else
		HV_BACKEND=proc python3 tests/tour-check.py commands --hv "$HV" >"$TMP/tour-commands" 2>&1
		tour_results "$TMP/tour-commands"
		grep -q '^ok - ' "$TMP/tour-commands" || not_ok "tour: no command ran"
	fi
	if ! tour_tree "$TOUR_BASE"; then
		not_ok "tour: a scratch copy of the tree in $TOUR_BASE"
		return
	fi
	tour_ex0
	tour_ex1
	tour_ex2
	tour_ex3
	tour_ex4
	tour_ex5
	tour_ex6
	rm -rf "$TMP"/tour-*
	echo "# the tour took $((SECONDS - start)) s"
}

if [[ $HV_BACKEND == proc ]]; then
	tour_run
else
	echo "# the tour's outputs are the proc backend's: it runs in the proc pass"
fi
