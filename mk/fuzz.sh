#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the libFuzzer targets mk/fuzz.mk built ($BUILD/fuzz/fuzz_NAME) over their corpora.
#
#   mk/fuzz.sh run BUILD SECONDS NAME:OPTIONS...
#       fuzz each target for SECONDS on $BUILD/fuzz/corpus/NAME (seeded from
#       tests/fuzz/corpus/NAME; new inputs stay there, out of the tree), with the
#       libFuzzer OPTIONS given, then print per target the executions, the coverage of
#       its last stats line (cov: edges, ft: features) and whether it crashed. Crash
#       inputs go to $BUILD/fuzz/crashes/NAME/; the log to $BUILD/fuzz/NAME.log.
#   mk/fuzz.sh regress BUILD NAME...
#       run each target once over every input of tests/fuzz/corpus/NAME and
#       tests/fuzz/crashes/NAME (the inputs of crashes fixed since), nothing more.
#
# Exits 1 when any target crashed (or leaked, timed out or broke an invariant of its own).
set -u

mode=$1
build=$2
shift 2

# The number after "name:" on the last line of a log that has one ("-" when none does).
last_stat() {
	local v
	v=$(grep -o "$2: *[0-9]*" "$1" | tail -n 1 | sed 's/.*: *//')
	echo "${v:--}"
}

run() {
	local seconds=$1 failed=0 summary="" spec name opts bin corpus crashes log rc unit verdict
	local -a extra
	shift
	for spec in "$@"; do
		name=${spec%%:*}
		read -r -a opts <<<"${spec#*:}"
		bin=$build/fuzz/fuzz_$name
		corpus=$build/fuzz/corpus/$name
		crashes=$build/fuzz/crashes/$name
		log=$build/fuzz/$name.log
		mkdir -p "$corpus" "$crashes"
		# Seeds join what earlier runs found; a seed already there is not copied again.
		cp -n tests/fuzz/corpus/"$name"/* "$corpus/"
		# Inputs of fixed crashes are read too (libFuzzer writes only to the first directory).
		extra=()
		[[ -d tests/fuzz/crashes/$name ]] && extra=("tests/fuzz/crashes/$name")
		echo "fuzz: $name for $seconds s (log: $log)"
		"$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
			-artifact_prefix="$crashes/" "${opts[@]}" "$corpus" "${extra[@]}" >"$log" 2>&1
		rc=$?
		if ((rc == 0)); then
			verdict="no crash"
		else
			failed=1
			unit=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -n 1)
			verdict="CRASHED (exit $rc): ${unit:-see the log}"
		fi
		summary+=$(printf '  %-11s %12s runs  cov %6s  ft %7s  %s' "$name" \
			"$(last_stat "$log" stat::number_of_executed_units)" \
			"$(last_stat "$log" cov)" "$(last_stat "$log" ft)" "$verdict")$'\n'
	done
	echo "fuzz: $seconds s per target:"
	printf '%s' "$summary"
	return $failed
}

regress() {
	local failed=0 name log d
	local -a dirs
	for name in "$@"; do
		dirs=()
		for d in tests/fuzz/corpus/$name tests/fuzz/crashes/$name; do
			[[ -d $d ]] && dirs+=("$d")
		done
		if ((${#dirs[@]} == 0)); then
			echo "fuzz-regress: $name: no tests/fuzz/corpus/$name" >&2
			failed=1
			continue
		fi
		log=$build/fuzz/$name.regress.log
		# -runs=0: every input once, no mutation, nothing written to the directories.
		# Each takes milliseconds; the slow-input regressions took over 10 s before their fix.
		if "$build/fuzz/fuzz_$name" -runs=0 -timeout=5 \
			-artifact_prefix="$build/fuzz/regress-$name-" "${dirs[@]}" >"$log" 2>&1; then
			echo "fuzz-regress: $name: $(find "${dirs[@]}" -type f | wc -l) inputs, no crash"
		else
			echo "fuzz-regress: $name: CRASHED on an input in ${dirs[*]} (see $log):" >&2
			grep -m 3 -E 'ERROR|invariant broken|runtime error' "$log" >&2
			failed=1
		fi
	done
	return $failed
}

case $mode in
run) run "$@" ;;
regress) regress "$@" ;;
*)
	echo "usage: $0 run BUILD SECONDS NAME:OPTIONS... | regress BUILD NAME..." >&2
	exit 2
	;;
esac
