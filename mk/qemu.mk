# SPDX-License-Identifier: MIT
# QEMU targets: the same appliance images on stock QEMU -M microvm, through their PVH entry.
#
#   make run-qemu [APP=hello] [ARGS="..."]   boot an appliance on QEMU; exits like make run
#   make test-qemu                           only the QEMU integration tests
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
