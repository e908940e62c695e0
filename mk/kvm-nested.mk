# SPDX-License-Identifier: MIT
# make test-kvm-nested: hv's kvm backend on a host without /dev/kvm, inside a Linux VM under
# QEMU's TCG (-cpu max emulates SVM with nested paging, so kvm-amd gives that VM a /dev/kvm).
# make test runs the same where /dev/kvm is missing (tests/run.sh); this target runs it
# alone. mk/kvm-nested.sh fetches the Debian kernel and busybox it boots (pinned, cached
# under build/kvm-nested/); tests/kvm-nested.sh packs the initramfs, runs the cases and
# says which failed.

# Preloaded into hv in that VM: the task register's type as TCG's port I/O check wants it.
$(BUILD)/tests/kvm_nested_tr.so: tests/kvm_nested_tr.c
	@mkdir -p $(@D)
	$(HOST_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $<

test-build: $(BUILD)/tests/kvm_nested_tr.so

.PHONY: test-kvm-nested
test-kvm-nested: test-build $(BUILD)/tests/kvm_nested_tr.so
	tests/kvm-nested.sh $(BUILD)
