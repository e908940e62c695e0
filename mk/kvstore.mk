# SPDX-License-Identifier: MIT
# kvstore's second image: the same sources built with -DKVSTORE_SKIP_FLUSH, a log that never
# flushes. It is deliberately broken: the power-loss test (tests/integration/kvstore.sh) must
# see it lose acknowledged writes, or that test proves nothing.

KVSTORE_NOFLUSH_OBJS := $(patsubst %,$(BUILD)/guest/noflush/%.o,$(wildcard apps/kvstore/*.c))

# A shorter stem than $(BUILD)/guest/%.c.o's, so make picks this rule for these objects.
$(BUILD)/guest/noflush/%.c.o: %.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -DKVSTORE_SKIP_FLUSH -c $< -o $@

$(BUILD)/apps/kvstore-noflush.img: $(KVSTORE_NOFLUSH_OBJS) $(LIBOS_A) $(LWIP_A) libos/arch/x86_64/image.ld
	$(call link-image,$@,$(KVSTORE_NOFLUSH_OBJS))

test-build: $(BUILD)/apps/kvstore-noflush.img
