# SPDX-License-Identifier: MIT
# make test: unit tests (host), guest tests (tiny images on hv), integration tests (hv's CLI,
# loader errors, faults). tests/run.sh runs them all and fails if any check fails.

TEST_CC ?= gcc
# hv's own headers are quote-only: with -I, its elf.h would hide the system <elf.h>.
TEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -MMD -MP \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Ihv-iface/include -iquote hv-iface/hv -Ilibos/kernel -Ilibos/virtio -Itests/unit

# Each unit test and the host-buildable sources it tests.
UNIT_SUBJECTS_test_elf := hv-iface/hv/elf.c
UNIT_SUBJECTS_test_paging := hv-iface/hv/paging.c
UNIT_SUBJECTS_test_symbols := hv-iface/hv/symbols.c
UNIT_SUBJECTS_test_options := hv-iface/hv/options.c
UNIT_SUBJECTS_test_cmdline := hv-iface/hv/cmdline.c hv-iface/hv/options.c
UNIT_SUBJECTS_test_evtchn_ports := hv-iface/hv/evtchn_ports.c
UNIT_SUBJECTS_test_grant_entry := hv-iface/hv/grant_entry.c
UNIT_SUBJECTS_test_store := hv-iface/hv/store.c
UNIT_SUBJECTS_test_pagealloc := libos/kernel/pagealloc.c
UNIT_SUBJECTS_test_virtq_dev := hv-iface/hv/virtq_dev.c
UNIT_SUBJECTS_test_vswitch := hv-iface/hv/vswitch.c
UNIT_SUBJECTS_test_x86_decode := hv-iface/hv/x86_decode.c
UNIT_SUBJECTS_test_area := hv-iface/hv/area.c
UNIT_SUBJECTS_test_virtq := libos/virtio/virtq.c
UNIT_SUBJECTS_test_virtq_model := libos/virtio/virtq.c
UNIT_SUBJECTS_test_vchan_ring := libos/pv/vchan_ring.c
$(BUILD)/tests/unit/test_vchan_ring: TEST_CFLAGS += -Ilibos/pv
# libos's side of a grant entry raced against hv's own pinning code.
UNIT_SUBJECTS_test_gnttab_entry := libos/pv/gnttab_entry.c hv-iface/hv/grant_entry.c
$(BUILD)/tests/unit/test_gnttab_entry: TEST_CFLAGS += -Ilibos/pv -pthread
UNIT_SUBJECTS_test_kvstore := apps/kvstore/resp.c apps/kvstore/reply.c apps/kvstore/glob.c \
	apps/kvstore/crc32.c apps/kvstore/db.c
$(BUILD)/tests/unit/test_kvstore: TEST_CFLAGS += -Iapps/kvstore
UNIT_SUBJECTS_test_kvstore_log := apps/kvstore/resp.c apps/kvstore/reply.c apps/kvstore/glob.c \
	apps/kvstore/crc32.c apps/kvstore/aof_record.c apps/kvstore/aof_snapshot.c apps/kvstore/db.c \
	apps/kvstore/command.c apps/kvstore/cmd_strings.c apps/kvstore/cmd_keys.c \
	apps/kvstore/cmd_server.c
$(BUILD)/tests/unit/test_kvstore_log: TEST_CFLAGS += -Iapps/kvstore

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))

.SECONDEXPANSION:
$(BUILD)/tests/unit/%: tests/unit/%.c $$(UNIT_SUBJECTS_$$*)
	@mkdir -p $(@D)
	$(TEST_CC) $(TEST_CFLAGS) -o $@ $(filter %.c,$^)

# Guest tests: one image per tests/guest/*.c, linked like an app.
GUEST_TESTS := $(patsubst tests/guest/%.c,$(BUILD)/tests/guest/%.img,$(wildcard tests/guest/*.c))

$(BUILD)/tests/guest/%.img: $(BUILD)/guest/tests/guest/%.c.o $(LIBOS_A) $(LWIP_A) libos/arch/x86_64/image.ld
	$(call link-image,$@,$<)
$(BUILD)/tests/guest/libc.img $(BUILD)/tests/guest/blk_roundtrip.img $(BUILD)/tests/guest/sleep.img: \
	IMAGE_LDFLAGS += $(PRINTF_FLOAT)
$(BUILD)/tests/guest/libc.img: IMAGE_LDFLAGS += $(SCANF_FLOAT)

# Guest images that integration scripts run with devices they set up (a tap in a namespace).
INTEGRATION_IMAGES := $(patsubst tests/integration/guest/%.c,$(BUILD)/tests/integration/%.img,\
	$(wildcard tests/integration/guest/*.c))

$(BUILD)/tests/integration/%.img: $(BUILD)/guest/tests/integration/guest/%.c.o $(LIBOS_A) $(LWIP_A) \
		libos/arch/x86_64/image.ld
	$(call link-image,$@,$<)
$(BUILD)/tests/integration/pv_events.img $(BUILD)/tests/integration/pv_grants.img: \
	IMAGE_LDFLAGS += $(PRINTF_FLOAT)

# The hostile vchan peer speaks the channel's wire format by hand: it needs libos's layout header.
$(BUILD)/guest/tests/integration/guest/vchan_hostile.c.o: GUEST_CFLAGS += -Ilibos/pv

# The proc backend's child mechanics against a real traced process: needs fork, ptrace and
# exec, so it is built like hv (no sanitizers) rather than as a unit test.
$(BUILD)/tests/proc_child_test: tests/integration/proc_child_test.c \
		hv-iface/hv/backend_proc_child.c hv-iface/hv/backend_proc_seccomp.c $(PROC_STUB_OBJ)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -iquote hv-iface/hv -pthread -o $@ $(filter %.c %.o,$^)
test-build: $(BUILD)/tests/proc_child_test

# A stand-in for a bug in hv: preloaded, it makes one forbidden system call (hv_sandbox.sh).
$(BUILD)/tests/hv_probe.so: tests/integration/hv_probe.c
	@mkdir -p $(@D)
	$(HOST_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -shared -fPIC -pthread -o $@ $<
test-build: $(BUILD)/tests/hv_probe.so

# A scripted client of gdb's remote protocol for the nested kvm run, static: no libraries there.
$(BUILD)/tests/gdb_rsp: tests/gdb_rsp.c
	@mkdir -p $(@D)
	$(HOST_CC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<
test-build: $(BUILD)/tests/gdb_rsp

# A host tool that writes malformed variants of an image for the loader tests.
$(BUILD)/tests/elfmut: tests/integration/elfmut.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $<

.PHONY: test test-build
test-build: fuzz-build all $(UNIT_TESTS) $(GUEST_TESTS) $(INTEGRATION_IMAGES) $(BUILD)/tests/elfmut \
	$(BUILD)/bench/tcpstream.img
# With SANITIZE=1 the tests run hv-san. LeakSanitizer stays off there: its tracer is a new
# process, which hv's own sandbox refuses at exit; ASan and UBSan stop hv at the first error.
test: test-build
	HV=$(HV) $(if $(filter 1,$(SANITIZE)),ASAN_OPTIONS=detect_leaks=0 \
		UBSAN_OPTIONS=print_stacktrace=1) tests/run.sh $(BUILD)
