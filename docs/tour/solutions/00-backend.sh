#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The tour's exercise 0 (docs/tour/00-map.md): hello on each backend by name, with --stats:
# how each run ended, which backend ran it and what an exit is there, or why it could not
# run. From the project root, after make.
HV=${HV:-build/hv}
for backend in proc kvm; do
	stats=$("$HV" --backend="$backend" --stats build/apps/hello.img 2>&1 >/dev/null)
	echo "--backend=$backend: exit status $?"
	echo "$stats" | grep -e 'stats: backend' -e 'exits in' -e '/dev/kvm'
done
