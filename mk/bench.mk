# SPDX-License-Identifier: MIT
# Benchmarks: measurements, never tests. make bench-boot prints boot time and CPU overhead.

BENCH_TOOLS := $(BUILD)/bench/timecmd $(BUILD)/bench/kvm_floor $(BUILD)/bench/cpuloop \
	$(BUILD)/bench/maxrss

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -o $@ $<

# The CPU loop, native and as a guest image, from one source. Its speed here depends on where
# the loop lands relative to a 64-byte boundary (measured: up to 20% either way), so both
# builds align loops to 64 bytes: the comparison is then of the same code at the same offset.
BENCH_LOOP_FLAGS := -falign-loops=64

$(BUILD)/bench/cpuloop: bench/cpuloop.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(BENCH_LOOP_FLAGS) -o $@ $<

$(BUILD)/guest/bench/cpuloop.c.o: bench/cpuloop.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) $(BENCH_LOOP_FLAGS) -c $< -o $@

$(BUILD)/bench/work: bench/work.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(BENCH_LOOP_FLAGS) -o $@ $<

$(BUILD)/guest/bench/guest/work.c.o: bench/guest/work.c bench/work.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) $(BENCH_LOOP_FLAGS) -c $< -o $@

$(BUILD)/bench/cpuloop.img: $(BUILD)/guest/bench/cpuloop.c.o $(LIBOS_A) $(LWIP_A) libos/arch/x86_64/image.ld
	$(call link-image,$@,$<)

# The ring-3 KVM floor links hv's own CPU and page-table setup, and nothing else of hv.
$(BUILD)/bench/kvm_floor3: bench/kvm_floor3.c $(BUILD)/host/hv-iface/hv/backend_kvm_cpu.c.o \
		$(BUILD)/host/hv-iface/hv/paging.c.o $(BUILD)/host/hv-iface/hv/fault_stubs_x86_64.S.o
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -Ihv-iface/hv -o $@ $^

# Guest images of the benchmark suite: one per bench/guest/*.c.
BENCH_IMAGES := $(patsubst bench/guest/%.c,$(BUILD)/bench/%.img,$(wildcard bench/guest/*.c))

$(BUILD)/bench/%.img: $(BUILD)/guest/bench/guest/%.c.o $(LIBOS_A) $(LWIP_A) libos/arch/x86_64/image.ld
	$(call link-image,$@,$<)
# Every benchmark guest prints its figures in floating point.
$(BENCH_IMAGES) $(BUILD)/bench/cpuloop.img: IMAGE_LDFLAGS += $(PRINTF_FLOAT)

# make bench [QUICK=1]: the whole suite, report in build/bench/report.md (bench/suite.py). Every
# hv figure is taken on each backend hv has here (kvm where /dev/kvm is usable, proc always);
# BACKENDS="kvm proc" chooses, here and in the bench-* targets below.
.PHONY: bench
bench: all $(BENCH_TOOLS) $(BUILD)/bench/kvm_floor3 $(BUILD)/bench/proc_floor $(BUILD)/bench/blkbench $(BUILD)/bench/work $(BUILD)/bench/tcpstream $(BUILD)/bench/ipc_native \
		$(BENCH_IMAGES) $(BUILD)/bench/cpuloop.img $(BUILD)/tests/integration/sleeper.img
	QUICK=$(QUICK) python3 bench/suite.py $(BUILD)

.PHONY: bench-net
bench-net: all $(BUILD)/bench/tcpstream $(BUILD)/bench/tcpstream.img
	bench/net.sh $(BUILD)

.PHONY: bench-io
bench-io: all $(BUILD)/bench/blkbench
	bench/io.sh $(BUILD)

.PHONY: bench-boot
bench-boot: all $(BENCH_TOOLS) $(BUILD)/bench/cpuloop.img
	bench/boot.sh $(BUILD)

# make bench-pv: event channels and the shared-memory channel between two domains, against two
# native processes over a pipe and an eventfd (bench/pv.sh; RUNS=n rounds).
.PHONY: bench-pv
bench-pv: all $(BUILD)/bench/ipc_native
	bench/pv.sh $(BUILD)
