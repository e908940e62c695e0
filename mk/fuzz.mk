# SPDX-License-Identifier: MIT
# Fuzzing with libFuzzer (clang): one target per parser of guest or user input, tests/fuzz/.
#
#   make fuzz [FUZZ_SECONDS=75] [FUZZ_TARGETS="elf http"]
#                      fuzz each target for FUZZ_SECONDS on its corpus, then one summary
#                      line each: executions, coverage (cov, ft), crashed or not. New inputs
#                      go to $(BUILD)/fuzz/corpus/NAME, crashes to $(BUILD)/fuzz/crashes/NAME.
#   make fuzz-regress  run each target once over tests/fuzz/corpus/NAME and
#                      tests/fuzz/crashes/NAME (fixed crashes' inputs); fails on any crash
#   make fuzz-build    only build $(BUILD)/fuzz/fuzz_NAME for every target
#
# The targets need clang with libFuzzer (Debian: clang and libclang-rt-<version>-dev).

CLANG ?= clang
FUZZ_SECONDS ?= 75
FUZZ_ALL := elf cmdline virtq_dev virtio_dev evtchn grant store hypercall resp http x86_decode
FUZZ_TARGETS ?= $(FUZZ_ALL)

# Like TEST_CFLAGS (hv's headers are quote-only: its elf.h would hide <elf.h>), with libFuzzer.
FUZZ_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Ihv-iface/include -iquote hv-iface/hv -Itests/fuzz

# Each target and the real sources it drives.
FUZZ_SUBJECTS_elf := hv-iface/hv/elf.c
FUZZ_SUBJECTS_cmdline := hv-iface/hv/cmdline.c hv-iface/hv/options.c
FUZZ_SUBJECTS_virtq_dev := hv-iface/hv/virtq_dev.c
FUZZ_SUBJECTS_evtchn := hv-iface/hv/evtchn_ports.c
FUZZ_SUBJECTS_grant := hv-iface/hv/grant_entry.c
FUZZ_SUBJECTS_store := hv-iface/hv/store.c
# The hypercalls over three domains: the handlers, the tables under them, what they call in hv,
# and the host the target stands in for (hypercall_host.c: backend, vm.c's end and clock).
FUZZ_SUBJECTS_hypercall := tests/fuzz/hypercall_host.c $(addprefix hv-iface/hv/,hypercall.c \
	evtchn.c evtchn_ports.c gnttab.c grant_entry.c store.c send_ring.c host.c area.c stats.c \
	options.c trace.c trace_call.c)
FUZZ_SUBJECTS_resp := $(addprefix apps/kvstore/,resp.c reply.c glob.c db.c command.c \
	cmd_strings.c cmd_keys.c cmd_server.c)
FUZZ_FLAGS_resp := -Iapps/kvstore
FUZZ_SUBJECTS_http := apps/httpd/http_parse.c
FUZZ_FLAGS_http := -Iapps/httpd
FUZZ_SUBJECTS_x86_decode := hv-iface/hv/x86_decode.c
# virtio_dev: with the rig it runs them in (tests/fuzz/virtio_rig.h); the link sends hv's calls
# on a tap to the fuzzer's own tap, and its calls into virtq_dev.c through the rig's watch.
FUZZ_SUBJECTS_virtio_dev := $(addprefix hv-iface/hv/,virtio_mmio.c virtio_dev.c virtio_blk.c \
	virtio_net.c virtq_dev.c uring.c) tests/fuzz/virtio_rig.c tests/fuzz/virtio_watch.c
FUZZ_FLAGS_virtio_dev := $(foreach f,if_nametoindex fopen open ioctl readv writev virtq_dev_pop \
	virtq_dev_unpop virtq_dev_push virtq_chain_read virtq_chain_write,-Wl,--wrap=$(f))

# libFuzzer options of a timed run, per target: a head that fills httpd's buffer needs 16 KiB;
# resp's 64 KiB regression inputs must not make every input that long; the words of a protocol
# are in its dictionary.
FUZZ_OPTS_http := -max_len=20000 -dict=tests/fuzz/http.dict
FUZZ_OPTS_resp := -max_len=8192 -dict=tests/fuzz/resp.dict

FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_ALL))

# Whether $(CLANG) exists and links a libFuzzer program, asked once per compiler.
FUZZ_PROBE := $(BUILD)/fuzz/.probe-$(notdir $(CLANG))
FUZZ_CLANG_MAJOR = $(firstword $(subst ., ,$(shell $(CLANG) -dumpversion 2>/dev/null)))
$(FUZZ_PROBE):
	@mkdir -p $(@D)
	@command -v $(CLANG) >/dev/null 2>&1 || { \
		echo "fuzz: '$(CLANG)' not found: install clang (Debian: apt-get install clang)" \
			"or name it with CLANG=" >&2; exit 1; }
	@printf '%s\n' 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)' \
		'{ (void)d; (void)n; return 0; }' >$@.c
	@$(CLANG) -fsanitize=fuzzer,address,undefined -o $@.bin $@.c 2>$@.log || { \
		echo "fuzz: '$(CLANG)' cannot link -fsanitize=fuzzer: libFuzzer is missing" \
			"(Debian: apt-get install libclang-rt-$(FUZZ_CLANG_MAJOR)-dev);" \
			"see $@.log" >&2; exit 1; }
	@touch $@

# One compiler run per target, several sources: -MMD would keep only the last one's headers,
# so every header next to a source, and the ABI's, counts.
fuzz-headers = tests/fuzz/fuzz.h \
	$(wildcard hv-iface/include/*.h $(addsuffix *.h,$(sort $(dir $(1)))))

define fuzz-rule
$(BUILD)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_SUBJECTS_$(1)) \
		$(call fuzz-headers,$(FUZZ_SUBJECTS_$(1))) | $(FUZZ_PROBE)
	@mkdir -p $$(@D)
	$$(CLANG) $$(FUZZ_CFLAGS) $$(FUZZ_FLAGS_$(1)) -o $$@ $$(filter %.c,$$^)
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call fuzz-rule,$(t))))

.PHONY: fuzz fuzz-build fuzz-regress
fuzz-build: $(FUZZ_BINS)

fuzz: $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
	@mk/fuzz.sh run $(BUILD) $(FUZZ_SECONDS) \
		$(foreach t,$(FUZZ_TARGETS),$(t):'$(FUZZ_OPTS_$(t))')

fuzz-regress: $(FUZZ_BINS)
	@mk/fuzz.sh regress $(BUILD) $(FUZZ_ALL)
