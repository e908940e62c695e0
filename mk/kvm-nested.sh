#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches, verifies and unpacks what make test-kvm-nested boots under QEMU: a Debian kernel
# (its kvm and kvm-amd modules give the VM a /dev/kvm) into BUILD_DIR/kvm-nested/kernel and
# busybox-static (the VM's shell and tools) into BUILD_DIR/kvm-nested/busybox, pinned and
# cached by mk/debs.sh.
#
# Usage: mk/kvm-nested.sh BUILD_DIR     (run from the project root; idempotent)
set -euo pipefail
[[ $# == 1 ]] || { echo "usage: mk/kvm-nested.sh BUILD_DIR" >&2; exit 1; }
exec "$(dirname "$0")/debs.sh" "$1" kvm-nested kernel=@kernel busybox=busybox-static
