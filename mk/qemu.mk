# SPDX-License-Identifier: MIT
# QEMU targets: the same appliance images on stock QEMU -M microvm, through their PVH entry,
# and as the dom0 of a real Xen inside QEMU (PV or PVH).
#
#   make run-qemu [APP=hello] [ARGS="..."]   boot an appliance on QEMU; exits like make run
#   make test-qemu                           only the QEMU integration tests
#   make run-xen, make test-xen-dom0         the same on Xen (below)
#
# The QEMU command line, each option explained, is in mk/qemu-run.sh: make run-qemu and the
# tests share it, and it maps QEMU's exit code back to the guest's status.

QEMU_RUN := mk/qemu-run.sh

.PHONY: run-qemu test-qemu
run-qemu: $(BUILD)/apps/$(APP).img
	$(QEMU_RUN) $(BUILD)/apps/$(APP).img $(ARGS)

test-qemu: test-build
	tests/integration/qemu.sh $(BUILD)

# The PVH platform's command-line parser is plain C: unit-tested on the host.
UNIT_SUBJECTS_test_pvh_cmdline := platforms/kvm/pvh_cmdline.c

# Xen: the same images as the first domain (dom0) of a real Xen inside QEMU TCG, PV or PVH. The
# command line and exit codes are in mk/xen-run.sh; it fetches Xen on its first run.
#
#   make run-xen [APP=hello] [ARGS="..."] [XEN_MODE=pv|pvh]   boot an appliance as dom0
#   make test-xen-dom0                                          only the dom0 tests (make test
#                                                               runs them)
# And as a domU that xl creates in a Linux dom0 (mk/xen-domu.sh, about 12 s a boot):
#   make run-xen-domu [APP=...] [ARGS="..."] [XEN_MODE=pv|pvh] [XEN_DOMU_OPTS="--vif --disk F"]
#   make test-xen                                               the domU tests (opt-in: minutes)
XEN_MODE ?= pv
XEN_DOMU_OPTS ?=

.PHONY: run-xen test-xen-dom0 run-xen-domu test-xen
run-xen: $(BUILD)/apps/$(APP).img
	BUILD=$(BUILD) mk/xen-run.sh --$(XEN_MODE) $(BUILD)/apps/$(APP).img $(ARGS)

test-xen-dom0: test-build
	tests/integration/xen.sh $(BUILD)

run-xen-domu: $(BUILD)/apps/$(APP).img
	BUILD=$(BUILD) mk/xen-domu.sh --$(XEN_MODE) $(XEN_DOMU_OPTS) $(BUILD)/apps/$(APP).img $(ARGS)

test-xen: test-build
	tests/xen-domu.sh $(BUILD)
