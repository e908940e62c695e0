# SPDX-License-Identifier: MIT
# The one entry point: deps, all, run, test, bench-boot, install, clean. GNU Make only.
#
#   make               build build/hv and build/apps/<app>.img for every app
#   make run [APP=hello] [ARGS="..."]   build, then boot an appliance on hv
#   make test          unit, guest and integration tests
#   make bench-boot    boot-time and CPU-overhead measurements (not a test)
#   make install [PREFIX=/usr/local]   the kit for appliances built out of the tree
#   make deps          fetch and build newlib, fetch lwIP (done by make when missing)

.SUFFIXES:
.DELETE_ON_ERROR:
# Objects made through pattern chains are kept, so a second make rebuilds nothing.
.SECONDARY:
.DEFAULT_GOAL := all
MAKEFLAGS += --no-builtin-rules

BUILD ?= build
APP ?= hello
ARGS ?=

# --- host side: hv and host-built tests -------------------------------------------------
HOST_CC ?= gcc
HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -MMD -MP -Ihv-iface/include

HV_SRCS := $(wildcard hv-iface/hv/*.c hv-iface/hv/*.S)
HV_OBJS := $(patsubst %,$(BUILD)/host/%.o,$(HV_SRCS))
# make ... SANITIZE=1: hv also built with ASan and UBSan, as $(BUILD)/hv-san from objects of
# its own, and the tests run that one (the unit tests always have both sanitizers).
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HV_SAN_OBJS := $(patsubst %,$(BUILD)/host-san/%.o,$(HV_SRCS))
HV := $(if $(filter 1,$(SANITIZE)),$(BUILD)/hv-san,$(BUILD)/hv)
# The program each proc-backend guest process execs, built static at the addresses stub.ld
# fixes and linked into hv as bytes. It lives in proc_stub/, out of HV_SRCS's wildcard.
PROC_STUB_OBJ := $(BUILD)/host/proc_stub_elf.o
HV_OBJS += $(PROC_STUB_OBJ)

$(BUILD)/host/proc_stub: hv-iface/hv/proc_stub/stub.S hv-iface/hv/proc_stub/stub.ld
	@mkdir -p $(@D)
	$(HOST_CC) -nostdlib -static -no-pie -Wl,-T,hv-iface/hv/proc_stub/stub.ld \
		-Wl,--build-id=none -o $@ $<

$(PROC_STUB_OBJ): hv-iface/hv/proc_stub/stub_elf.S $(BUILD)/host/proc_stub
	$(HOST_CC) $(HOST_CFLAGS) -Wa,-I$(BUILD)/host -c $< -o $@

$(BUILD)/host/%.c.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/host/%.S.o: %.S
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/hv: $(HV_OBJS)
	$(HOST_CC) -o $@ $^

$(BUILD)/host-san/%.c.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/host-san/%.S.o: %.S
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

$(BUILD)/hv-san: $(HV_SAN_OBJS) $(PROC_STUB_OBJ)
	$(HOST_CC) $(SAN_FLAGS) -o $@ $^

# --- dependencies: newlib (built) and lwIP (fetched), see mk/deps.sh -----------------------
DEPS_STAMP := $(BUILD)/deps/.done

$(DEPS_STAMP): mk/deps.sh mk/guest-cc.in mk/newlib-nano-c99.patch
	mk/deps.sh $(BUILD)

.PHONY: deps
deps:
	mk/deps.sh $(BUILD)

# --- guest side: libos, platforms and apps, linked into one image per app ----------------
GUEST_CC := $(BUILD)/toolchain/bin/x86_64-elf-gcc
GUEST_AR := $(BUILD)/toolchain/bin/x86_64-elf-ar
SYSROOT_LIB := $(BUILD)/sysroot/x86_64-elf/lib
# libos implements clock_gettime, nanosleep and a monotonic clock; newlib declares them only
# where the target says so. FD_SETSIZE: one descriptor table of 1024 (console, sockets, files);
# newlib's sys/select.h keeps a value defined before it, and lwIP needs it above its socket count.
GUEST_DEFS := -D_POSIX_TIMERS=1 -D_POSIX_MONOTONIC_CLOCK=200112L -DFD_SETSIZE=1024
# How every guest C file is compiled, here and by the installed kit's x86_64-pvkit-cc (which
# leaves the warnings to its user).
GUEST_CODE_FLAGS := -std=gnu11 -O2 -g -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables $(GUEST_DEFS)
# The guest's include path: the ABI, libos's interface and its POSIX headers (sockets, poll),
# and lwIP's headers, which the socket headers are built on.
GUEST_CFLAGS := $(GUEST_CODE_FLAGS) -Wall -Wextra -Werror -MMD -MP \
	-Ihv-iface/include -Ilibos/include -Ilibos/include/posix \
	-I$(BUILD)/src/lwip/src/include -Ilibos/net
# lwIP's own sources are not ours to change: only the warnings they trip are relaxed.
LWIP_CFLAGS := -Wno-address -Wno-unused-parameter
# The image's layout, and what every link of an image adds (here and in x86_64-pvkit-cc).
IMAGE_LD := libos/arch/x86_64/image.ld
IMAGE_LINK_FLAGS := -Wl,--gc-sections -Wl,--nmagic -Wl,--build-id=none
GUEST_LDFLAGS := -T $(IMAGE_LD) $(IMAGE_LINK_FLAGS)

# Every platform's code is in every image: the entry point the loader takes picks the platform.
LIBOS_SRCS := $(wildcard libos/kernel/*.c libos/pv/*.c libos/virtio/*.c libos/net/*.c libos/fs/*.c \
	libos/arch/x86_64/*.c libos/arch/x86_64/*.S platforms/kvm/*.c platforms/kvm/*.S \
	platforms/xen/*.c platforms/xen/*.S)
LIBOS_OBJS := $(patsubst %,$(BUILD)/guest/%.o,$(LIBOS_SRCS))
LIBOS_A := $(BUILD)/libos.a

# The stamp changes when newlib or the compiler wrapper does: then everything is rebuilt.
$(BUILD)/guest/%.c.o: %.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -Ilibos/kernel -Ilibos/virtio -c $< -o $@

$(BUILD)/guest/%.S.o: %.S $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

# Xen's PVH guest shares the PVH entry, IDT, console and fault reports in platforms/kvm/.
$(BUILD)/guest/platforms/xen/%.o: GUEST_CFLAGS += -Iplatforms/kvm

# The files that are mostly boot and fault-report code, which runs once, are built for size:
# every image carries all four boot paths (hv, QEMU's PVH, Xen PV and PVH) and uses one. Their
# few run-time functions (a Xen guest's block, the wall clock) wait on far more than they run.
# What the guest runs all the time (events, interrupts, the console, paravirtual calls) and all
# of hv's platform stay at -O2.
COLD_SRCS := $(addprefix platforms/kvm/,pvh_boot.c pvh_calibrate.c pvh_cmdline.c pvh_fault.c \
	pvh_ioapic.c pvh_rtc.c pvh_virtio.c) \
	$(addprefix platforms/xen/,xen_pv.c xen_pv_mmu.c xen_pvh.c) libos/kernel/panic.c
$(patsubst %,$(BUILD)/guest/%.o,$(COLD_SRCS)): GUEST_CFLAGS += -Os

$(LIBOS_A): $(LIBOS_OBJS)
	@rm -f $@
	$(GUEST_AR) rcs $@ $^

# newlib's printf and scanf format floating point (%f, %e, %g) only in an image that links
# _printf_float or _scanf_float (mk/deps.sh); without them such a conversion prints nothing and
# scans nothing. An image whose code prints floating point says so where its rule is:
#   $(BUILD)/apps/hello.img: IMAGE_LDFLAGS += $(PRINTF_FLOAT)
PRINTF_FLOAT := -u _printf_float
SCANF_FLOAT := -u _scanf_float

# link-image(output, objects): one app's objects + libos + newlib -> a bootable image, with the
# image's own IMAGE_LDFLAGS.
define link-image
	@mkdir -p $(dir $(1))
	$(GUEST_CC) $(GUEST_LDFLAGS) $(IMAGE_LDFLAGS) -o $(1) $(2) -Wl,--start-group $(LIBOS_A) \
		$(LWIP_A) $(SYSROOT_LIB)/libc.a $(SYSROOT_LIB)/libm.a -Wl,--end-group
endef

include mk/lwip.mk

APPS := $(notdir $(patsubst %/,%,$(dir $(wildcard apps/*/*.c))))
APPS := $(sort $(APPS))
APP_IMAGES := $(patsubst %,$(BUILD)/apps/%.img,$(APPS))

# Each app is the .c files in its folder, plus its rootfs/ folder if it has one: packed as a
# ustar archive, linked into the image, and mounted at "/" before main().
define app-rule
$(1)_OBJS := $$(patsubst %,$$(BUILD)/guest/%.o,$$(wildcard apps/$(1)/*.c)) \
	$$(if $$(wildcard apps/$(1)/rootfs),$$(BUILD)/apps/$(1)/rootfs.o)
$$(BUILD)/apps/$(1).img: $$($(1)_OBJS) $$(LIBOS_A) $$(LWIP_A) libos/arch/x86_64/image.ld
	$$(call link-image,$$@,$$($(1)_OBJS))
$$(BUILD)/apps/$(1)/rootfs.tar: $$(shell find apps/$(1)/rootfs 2>/dev/null)
	$$(call make-tar,apps/$(1)/rootfs,$$@)
endef

# make-tar(dir, archive): a reproducible ustar archive of dir's contents.
define make-tar
	@mkdir -p $(dir $(2))
	tar --format=ustar --owner=0 --group=0 --numeric-owner --sort=name --mtime=@0 \
		-C $(1) -cf $(2) .
endef

$(BUILD)/apps/%/rootfs.o: $(BUILD)/apps/%/rootfs.tar $(DEPS_STAMP)
	printf '\t.section .rodata.rootfs, "a"\n\t.balign 512\n\t.globl __rootfs_start, __rootfs_end\n__rootfs_start:\n\t.incbin "%s"\n__rootfs_end:\n\t.section .note.GNU-stack, "", @progbits\n' $< >$@.S
	$(GUEST_CC) -c $@.S -o $@

# make disk DIR=folder DISK=file: a block-device image of a folder, in the same ustar format
# the image's own files use (libos mounts it with fs_mount_tar_blkdev).
.PHONY: disk
disk:
	@test -n "$(DIR)" -a -n "$(DISK)" || { echo "usage: make disk DIR=folder DISK=file"; exit 2; }
	$(call make-tar,$(DIR),$(DISK))
$(foreach app,$(APPS),$(eval $(call app-rule,$(app))))

# The apps that print floating point.
$(BUILD)/apps/blktest.img $(BUILD)/apps/pingpong.img: \
	IMAGE_LDFLAGS += $(PRINTF_FLOAT)

.PHONY: all apps
all: $(BUILD)/hv $(HV) apps
apps: $(APP_IMAGES)

# make install [PREFIX=/usr/local]: the kit for building appliances out of this tree (hv, the
# x86_64-pvkit-cc compiler, libraries, headers, the template), as a tree that can be moved.
PREFIX ?= /usr/local

.PHONY: install
install: $(BUILD)/hv $(LIBOS_A) $(LWIP_A) $(DEPS_STAMP) mk/install.sh mk/pvkit-cc.in $(IMAGE_LD)
	mk/install.sh $(BUILD) "$(PREFIX)" '$(GUEST_CODE_FLAGS)' '$(IMAGE_LINK_FLAGS)'

# Apps with a run.conf (network, memory, disk) get them from mk/run.sh.
.PHONY: run gdb
run: $(BUILD)/hv $(BUILD)/apps/$(APP).img
	mk/run.sh $(BUILD) $(APP) $(ARGS)

# The same under gdb: hv waits on 127.0.0.1:$(GDB_PORT) and gdb attaches, the image's symbols
# loaded, stopped before the first instruction (break main, then continue).
GDB_PORT ?= 1234
gdb: $(BUILD)/hv $(BUILD)/apps/$(APP).img
	GDB_PORT=$(GDB_PORT) mk/run.sh --gdb $(BUILD) $(APP) $(ARGS)

include mk/test.mk
include mk/bench.mk
include mk/kvstore.mk
include mk/qemu.mk
include mk/kvm-nested.mk
include mk/fuzz.mk

.PHONY: clean distclean
# clean keeps the fetched and built dependencies; distclean removes everything.
clean:
	rm -rf $(BUILD)/host $(BUILD)/host-san $(BUILD)/guest $(BUILD)/apps $(BUILD)/tests \
		$(BUILD)/bench $(BUILD)/hv $(BUILD)/hv-san $(LIBOS_A)
distclean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/host $(BUILD)/host-san $(BUILD)/guest $(BUILD)/tests -name '*.d' 2>/dev/null)
