# SPDX-License-Identifier: MIT
# Benchmarks: measurements, never tests. make bench-boot prints boot time and CPU overhead.

BENCH_TOOLS := $(BUILD)/bench/timecmd $(BUILD)/bench/kvm_floor $(BUILD)/bench/cpuloop

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

$(BUILD)/bench/cpuloop.img: $(BUILD)/guest/bench/cpuloop.c.o $(LIBOS_A) $(LWIP_A) libos/arch/x86_64/image.ld
	$(call link-image,$@,$<)

.PHONY: bench-net
bench-net: all
	bench/net.sh $(BUILD)

.PHONY: bench-io
bench-io: all $(BUILD)/bench/blkbench
	bench/io.sh $(BUILD)

.PHONY: bench-boot
bench-boot: all $(BENCH_TOOLS) $(BUILD)/bench/cpuloop.img
	bench/boot.sh $(BUILD)
