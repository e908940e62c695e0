# SPDX-License-Identifier: MIT
# kvstore's deliberately broken images, each the same sources built with one -D. The tests
# (tests/integration/kvstore.sh) must see each lose acknowledged writes, or they prove nothing:
#   kvstore-noflush.img      -DKVSTORE_SKIP_FLUSH: a log that never flushes (the power-loss test)
#   kvstore-earlycommit.img  -DKVSTORE_EARLY_COMMIT: a rewrite that writes its superblock before
#                            flushing the new log (the power cuts during rewrites)

# kvstore-variant NAME DEFINE
define kvstore-variant
KVSTORE_$(1)_OBJS := $$(patsubst %,$$(BUILD)/guest/$(1)/%.o,$$(wildcard apps/kvstore/*.c))

# A shorter stem than $$(BUILD)/guest/%.c.o's, so make picks this rule for these objects.
$$(BUILD)/guest/$(1)/%.c.o: %.c $$(DEPS_STAMP)
	@mkdir -p $$(@D)
	$$(GUEST_CC) $$(GUEST_CFLAGS) -D$(2) -c $$< -o $$@

$$(BUILD)/apps/kvstore-$(1).img: $$(KVSTORE_$(1)_OBJS) $$(LIBOS_A) $$(LWIP_A) libos/arch/x86_64/image.ld
	$$(call link-image,$$@,$$(KVSTORE_$(1)_OBJS))

test-build: $$(BUILD)/apps/kvstore-$(1).img
endef

$(eval $(call kvstore-variant,noflush,KVSTORE_SKIP_FLUSH))
$(eval $(call kvstore-variant,earlycommit,KVSTORE_EARLY_COMMIT))
