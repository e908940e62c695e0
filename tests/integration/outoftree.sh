# SPDX-License-Identifier: MIT
# The kit out of the tree: make install into a temporary PREFIX, the installed tree moved
# elsewhere (to a path with a blank), and from then on only the moved kit and folders outside
# the source tree: the template appliance copied out, built with its Makefile and booted on
# the kit's hv, talking to a client the kit built (on a switch) and to the host (on a tap, with
# root); a one-file program; -c and a link of objects and of a static library; apps/hello
# built by the kit into the same bytes as the tree's image; a compile error; refused options.
# Sourced by tests/run.sh (B, HV, TMP and the helpers of tests/lib.sh are set).

OOT=$TMP/outoftree
OOT_KIT="$OOT/moved kit"
OOT_CC=$OOT_KIT/bin/x86_64-pvkit-cc
OOT_HV=$OOT_KIT/bin/hv
OOT_WORK=$OOT/work
OOT_APP=$OOT/myapp
OOT_NS=pvkit-oot-$$
OOT_SUBNET=10.80.0

# oot_case NAME WANT_STATUS SUBSTRINGS... -- COMMAND...: COMMAND run in the work folder; its
# status and its output (stdout and stderr) checked.
oot_case() {
	local name=$1 want=$2 subs=()
	shift 2
	while [[ $1 != -- ]]; do subs+=("$1"); shift; done
	shift
	(cd "$OOT_WORK" && timeout -k 5 30 "$@") >"$TMP/oot.out" 2>&1
	expect "outoftree: $name" $? "$want" "$TMP/oot.out" "${subs[@]}"
}

# oot_check NAME COMMAND...: ok if COMMAND succeeds.
oot_check() {
	local name=$1
	shift
	if "$@"; then ok "outoftree: $name"; else not_ok "outoftree: $name"; fi
}

oot_install() {
	rm -rf "$OOT"
	mkdir -p "$OOT_WORK"
	make -s install BUILD="$B" PREFIX="$OOT/kit" >"$TMP/oot.out" 2>&1
	expect "outoftree: make install PREFIX=DIR" $? 0 "$TMP/oot.out" "install: the kit is in $OOT/kit"
	local f missing=()
	for f in bin/hv bin/x86_64-pvkit-cc lib/pvkit/image.ld lib/pvkit/lib/libos.a \
		lib/pvkit/lib/liblwip.a lib/pvkit/x86_64-elf/lib/libc.a lib/pvkit/x86_64-elf/lib/libm.a \
		lib/pvkit/x86_64-elf/include/stdio.h lib/pvkit/include/libos.h \
		lib/pvkit/include/hv_abi.h lib/pvkit/include/posix/sys/socket.h \
		lib/pvkit/include/lwip/lwip/sockets.h lib/pvkit/include/lwip-port/lwipopts.h \
		share/pvkit/templates/appliance/Makefile; do
		[[ -f $OOT/kit/$f ]] || missing+=("$f")
	done
	[[ ! -e $OOT/kit/lib/pvkit/include/platform.h ]] || missing+=("(platform.h is libos's own)")
	if ((${#missing[@]} == 0)); then ok "outoftree: the kit's files are in place"; else
		not_ok "outoftree: the kit lacks: ${missing[*]}"; fi
	mv "$OOT/kit" "$OOT_KIT"
	if grep -rlF "$OOT/kit" "$OOT_KIT" >"$TMP/oot.out"; then
		not_ok "outoftree: files in the kit name where it was installed"
		sed 's/^/    /' "$TMP/oot.out" | head -n 5
	else
		ok "outoftree: nothing in the kit names where it was installed"
	fi
	cp tests/integration/outoftree/*.[ch] "$OOT_WORK/"
}

oot_programs() {
	oot_case "--version" 0 "x86_64-pvkit-cc: pvkit, hv " "guest ABI version" -- "$OOT_CC" --version
	oot_case "--help" 0 "Usage: x86_64-pvkit-cc" "--rootfs DIR" -- "$OOT_CC" --help

	oot_case "a one-file program" 0 -- "$OOT_CC" -Wall -Wextra -Werror -o hello.img hello.c
	oot_case "the one-file program boots, with its arguments" 2 \
		"hello from outside the tree, 2 arguments" 'argument 2: "two words"' \
		-- "$OOT_HV" hello.img one "two words"

	# The tree's own apps/hello, built by the kit: the same loaded bytes as build/apps/hello.img.
	oot_case "apps/hello by the kit" 0 -- "$OOT_CC" -o tree-hello.img "$PWD/apps/hello/hello.c" \
		-lm
	objcopy -O binary "$OOT_WORK/tree-hello.img" "$OOT_WORK/kit.bin" &&
		objcopy -O binary "$B/apps/hello.img" "$OOT_WORK/tree.bin"
	oot_check "apps/hello: the kit's image loads the same bytes as the tree's" \
		cmp "$OOT_WORK/kit.bin" "$OOT_WORK/tree.bin"

	oot_case "-c, no -o" 0 -- "$OOT_CC" -Wall -Wextra -Werror -c squares.c
	oot_case "-c -o with -D" 0 -- "$OOT_CC" -Wall -Wextra -Werror -O1 -g \
		'-DSQUARES_LABEL="from -D"' -c sum_main.c -o main.o
	oot_case "a link of two objects" 0 -- "$OOT_CC" -o sum.img main.o squares.o
	oot_case "the two-object image boots" 30 "sum of squares to 4: 30 (from -D)" \
		-- "$OOT_HV" sum.img 4
	oot_case "a static library" 0 -- ar rcs libsquares.a squares.o
	oot_case "a link with -L. -lsquares -lm" 0 -- "$OOT_CC" -o sum-lib.img main.o -L. -lsquares -lm
	oot_case "the image with the library boots" 129 "sum of squares to 10: 385" \
		-- "$OOT_HV" sum-lib.img

	oot_case "a compile error: the compiler's message, status 1" 1 \
		"broken.c:5" "never_declared" -- "$OOT_CC" -o broken.img broken.c
	oot_check "a compile error leaves no image" test ! -e "$OOT_WORK/broken.img"

	oot_case "-shared is refused" 64 "-shared is not supported: an image is one static program" \
		-- "$OOT_CC" -shared -o x.img hello.c
	oot_case "-fPIC is refused" 64 "-fPIC is not supported" -- "$OOT_CC" -fPIC -c hello.c
	oot_case "-lpthread is refused" 64 "no POSIX threads" -- "$OOT_CC" -o x.img hello.c -lpthread
	oot_case "a library the kit lacks is not taken from the host" 64 "-lrt: no librt.a in the -L" \
		-- "$OOT_CC" -o x.img hello.c -lrt
	oot_case "a C++ file is refused" 64 "app.cpp is not supported: the kit compiles C only" \
		-- "$OOT_CC" -c app.cpp
	oot_case "an unknown option is refused" 64 "unsupported option --frobnicate (see" \
		-- "$OOT_CC" --frobnicate hello.c
	oot_case "-o without its value" 64 "-o needs a value" -- "$OOT_CC" hello.c -o
	oot_check "a refused option leaves no image" test ! -e "$OOT_WORK/x.img"

	mkdir -p "$OOT/bin" && ln -sf "$OOT_CC" "$OOT/bin/cc"
	oot_case "through a symbolic link to the wrapper" 0 -- "$OOT/bin/cc" -o linked.img hello.c
}

oot_template() {
	cp -R "$OOT_KIT/share/pvkit/templates/appliance" "$OOT_APP"
	oot_check "the installed template is templates/appliance" \
		diff -r -x '*.img' -x '*.o' -x '*.d' templates/appliance "$OOT_APP"
	# As a user would run it: with none of the make flags that run these tests.
	oot_case "the template builds with make PVKIT=DIR" 0 "--rootfs rootfs" \
		-- env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$OOT_APP" PVKIT="$OOT_KIT"
	# shellcheck disable=SC2016 # expanded by the inner bash
	oot_case "the template, cleaned, builds with the kit on PATH" 0 '"x86_64-pvkit-cc" -o echo.img' \
		-- env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash -c \
		'make -C "$1" clean && PATH="$2/bin:$PATH" make -C "$1"' - "$OOT_APP" "$OOT_KIT"
	oot_case "a socket client by the kit" 0 \
		-- "$OOT_CC" -Wall -Wextra -Werror -o echo_client.img echo_client.c
	# The template and the client as two domains of the kit's hv, on one switch (no root).
	oot_case "the template on hv serves two clients at once, greets with its rootfs's file" 0 \
		"echo: listening on TCP port 7" "client: greeting: Hello from echo" \
		"client: 65536 bytes and a line echoed, SUCCESS" "echo: 2 clients served, stopping" \
		-- "$OOT_HV" --net=switch:oot "$OOT_APP/echo.img" ip=10.0.9.2/24 clients=2 \
		:: --net=switch:oot echo_client.img ip=10.0.9.3/24 server=10.0.9.2

	if ! net_usable; then
		skip "outoftree: the template reached from the host: needs root, ip and /dev/net/tun"
		return
	fi
	local status
	if netns_up "$OOT_NS" "$OOT_SUBNET" && guest_start "$OOT_NS" "$TMP/oot-guest.log" \
		"listening on TCP port 7000" timeout -k 5 20 "$OOT_HV" --net=tap0 "$OOT_APP/echo.img" \
		"ip=$OOT_SUBNET.2/24" port=7000 clients=1; then
		# shellcheck disable=SC2016 # expanded by the inner bash
		ip netns exec "$OOT_NS" timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/7000" || exit 1
			read -r greeting <&3 && echo "greeting: $greeting" &&
			echo "a line from the host" >&3 && read -r back <&3 && echo "echoed: $back"' \
			- "$OOT_SUBNET.2" >"$TMP/oot.out" 2>&1
		expect "outoftree: the template answers a client on the host, over a tap" $? 0 \
			"$TMP/oot.out" "greeting: Hello from echo" "echoed: a line from the host"
		wait "$GUEST_PID"
		status=$?
		GUEST_PID=
		expect "outoftree: the template stops after clients=1, status 0" "$status" 0 \
			"$TMP/oot-guest.log" "client $OOT_SUBNET.1:" "echo: 1 clients served, stopping"
	else
		not_ok "outoftree: the template did not start on a tap"
	fi
	guest_stop
	netns_down "$OOT_NS"
}

oot_install
if [[ -x $OOT_CC ]]; then
	oot_programs
	oot_template
else
	not_ok "outoftree: no kit was installed, nothing else to test"
fi
