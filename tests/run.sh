#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test: host unit tests, guest tests (tiny images on hv, expectations in each
# source's header comment), integration tests (tests/integration/*.sh). Exits 1 if any fails.
#
# Usage: tests/run.sh BUILD_DIR [FILTER]   (FILTER: run only tests whose name contains it:
#        unit/test_x, guest/BACKEND/x, integration/x)
#
# A guest test's hv-options may name @DISK@: it becomes the path of a fresh 1 MiB zero-filled
# file, disk.img in a directory of its own, made for that one run.
set -uo pipefail
shopt -s nullglob

B=${1:?usage: tests/run.sh BUILD_DIR [FILTER]}
FILTER=${2:-}
HV=${HV:-$B/hv} # make test SANITIZE=1 passes build/hv-san
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
source "$(dirname "$0")/lib.sh"

wanted() { [[ -z $FILTER || $1 == *"$FILTER"* ]]; }

section "unit tests (host)"
for t in "$B"/tests/unit/test_*; do
	[[ $t == *.d ]] && continue # make's dependency files
	name=unit/$(basename "$t")
	wanted "$name" || continue
	if "$t" >"$TMP/out" 2>&1; then ok "$name: $(tail -n1 "$TMP/out")"; else
		not_ok "$name"; sed 's/^/    /' "$TMP/out" | tail -n 30; fi
done

# The fields of a guest test's header comment: "<key>: value" lines.
field() { sed -n "s/^ \* $2: //p" "$1"; }

run_guest_test() {
	local src=$1 name img status args=() opts=() line
	name=guest/$HV_BACKEND/$(basename "$src" .c)
	img=$B/tests/guest/$(basename "$src" .c).img
	if [[ -n $(field "$src" args) ]]; then
		IFS='|' read -r -a args <<<"$(field "$src" args | sed "s/@HOST_TIME@/$(date +%s)/")"
		# A trailing empty field (an empty argument) is dropped by read; keep it.
		[[ $(field "$src" args) == *'|' ]] && args+=("")
	fi
	read -r -a opts <<<"$(field "$src" hv-options)"
	if [[ ${opts[*]} == *@DISK@* ]]; then
		rm -rf "$TMP/disk" && mkdir "$TMP/disk" &&
			head -c 1048576 /dev/zero >"$TMP/disk/disk.img"
		opts=("${opts[@]//@DISK@/$TMP/disk/disk.img}")
	fi
	timeout 20 "$HV" "${opts[@]}" "$img" "${args[@]}" >"$TMP/stdout" 2>"$TMP/stderr"
	status=$?
	local want problems=()
	want=$(field "$src" expect-status)
	[[ $status == "$want" ]] || problems+=("exit status $status, expected $want")
	while IFS= read -r line; do
		grep -qF -- "$line" "$TMP/stdout" || problems+=("stdout lacks: $line")
	done < <(field "$src" expect-stdout)
	while IFS= read -r line; do
		grep -qF -- "$line" "$TMP/stderr" || problems+=("stderr lacks: $line")
	done < <(field "$src" expect-stderr; field "$src" "expect-stderr-$HV_BACKEND")
	if ((${#problems[@]} == 0)); then
		ok "$name (exit $status)"
	else
		not_ok "$name"
		printf '    %s\n' "${problems[@]}"
		sed 's/^/    stdout: /' "$TMP/stdout" | head -n 20
		sed 's/^/    stderr: /' "$TMP/stderr" | head -n 20
	fi
}

# Guest and integration tests run once on each backend hv has here; hv takes it from
# HV_BACKEND. The QEMU tests boot the images without hv, once: with KVM where the CPU
# virtualizes, else under TCG, so on any host.
for HV_BACKEND in $(hv_backends); do
	export HV_BACKEND
	section "guest tests (on hv, backend $HV_BACKEND)"
	for src in tests/guest/*.c; do
		wanted "guest/$HV_BACKEND/$(basename "$src" .c)" && run_guest_test "$src"
	done
	for script in tests/integration/*.sh; do
		[[ $(basename "$script") == qemu.sh || $(basename "$script") == xen.sh ]] && continue
		wanted "integration/$(basename "$script" .sh)" || continue
		section "integration: $(basename "$script" .sh) (backend $HV_BACKEND)"
		source "$script"
	done
done
unset HV_BACKEND

# The fuzz targets' corpora and every crash input fixed since, once each (mk/fuzz.mk; make fuzz
# runs them for minutes): the parsers of guest and user input still hold on all of them.
if wanted fuzz; then
	section "fuzz regression (libFuzzer targets over their corpora, tests/fuzz/)"
	targets=(tests/fuzz/fuzz_*.c)
	targets=("${targets[@]#tests/fuzz/fuzz_}")
	mk/fuzz.sh regress "$B" "${targets[@]%.c}" >"$TMP/fuzz" 2>&1
	while IFS= read -r line; do
		case $line in
		*", no crash") ok "$line" ;;
		"fuzz-regress: "*) not_ok "$line" ;;
		esac
	done <"$TMP/fuzz"
	grep -q "no crash" "$TMP/fuzz" || { not_ok "fuzz regression did not run"; tail -n 5 "$TMP/fuzz"; }
fi

# Without /dev/kvm here, the kvm backend still runs: in a Linux VM under QEMU's TCG, which
# emulates SVM and so offers a /dev/kvm inside (tests/kvm-nested.sh: about 2 minutes, the
# first run also fetches a Debian kernel). Its result lines count here.
if ! kvm_usable && wanted kvm-nested; then
	section "kvm backend, nested in QEMU TCG (tests/kvm-nested.sh)"
	tests/kvm-nested.sh "$B" >"$TMP/nested" 2>&1
	nested_status=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "kvm-nested: ${line#ok - }" ;;
		"FAIL - "*) not_ok "kvm-nested: ${line#FAIL - }" ;;
		"    "*) printf '%s\n' "$line" ;;
		esac
	done <"$TMP/nested"
	if ((nested_status != 0)) && ! grep -q '^FAIL - ' "$TMP/nested"; then
		not_ok "kvm-nested: $(tail -n 1 "$TMP/nested")"
	fi
fi

if wanted integration/qemu; then
	section "integration: qemu (accelerator $(mk/qemu-run.sh --which-accel), no hv)"
	source tests/integration/qemu.sh
fi

# Real Xen in QEMU TCG: the images as a PV and a PVH dom0 (the first run fetches Xen).
if wanted integration/xen; then
	section "integration: xen (Xen 4.17 in QEMU TCG, dom0 PV and PVH, no hv)"
	source tests/integration/xen.sh
fi

summary
