# SPDX-License-Identifier: MIT
# What the bench scripts share: tests/lib.sh's helpers, the backends to measure (every one hv
# has here, or BACKENDS="kvm proc"), and the banner that names the machine. Sourced.

source tests/lib.sh
read -ra backends <<<"${BACKENDS:-$(hv_backends)}"

# bench_banner NAME NO_KVM_NOTE: the machine, its CPUs and kernel, the backends measured, and
# what the absence of /dev/kvm (NO_KVM_NOTE) or a software-assisted KVM means for the figures.
bench_banner() {
	echo "$1 on $(hostname): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
		"$(nproc) CPUs, Linux $(uname -r); hv backends: ${backends[*]}"
	if ! kvm_usable; then
		echo "No usable /dev/kvm here: $2"
	elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "KVM here is software-assisted (no VMX/SVM visible): compare ratios, not absolute times."
	fi
}
