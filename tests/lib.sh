# SPDX-License-Identifier: MIT
# Helpers for the test scripts: result lines, counters, the summary, and what the host can do.

passed=0 failed=0 skipped=0

section() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; passed=$((passed + 1)); }
not_ok() { printf 'FAIL - %s\n' "$*"; failed=$((failed + 1)); }
skip() { printf 'SKIP - %s\n' "$*"; skipped=$((skipped + 1)); }

# Tests that need KVM skip (and say so) where it is absent; they never pass without it.
kvm_usable() { [[ -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; }

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

summary() {
	printf '\n%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	((failed == 0))
}
