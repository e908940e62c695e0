/* SPDX-License-Identifier: MIT */
/* One VM's life: create it with its backend, load an image with its boot layout, destroy it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "elf.h"
#include "gdb.h"
#include "hv.h"
#include "paging.h"
#include "virtio_dev.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

_Static_assert(HV_DEVICE_BASE + HV_MAX_DEVICES * HV_DEVICE_WINDOW <= HV_SEND_DOORBELL,
	       "the doorbell is above every device window");
_Static_assert(HV_SEND_DOORBELL < HV_GRANT_WINDOW && HV_GRANT_WINDOW + HV_GRANT_WINDOW_SIZE <=
	       HV_GPA_LIMIT, "the grant window is above the doorbell, below 4 GiB");
_Static_assert(HV_MEM_MAX <= HV_DEVICE_BASE, "RAM ends below the device windows");

/* RAM above the image that the layout needs: heap, stack guard, stack. */
static const uint64_t above_image = HV_HEAP_MIN + HV_STACK_GUARD + HV_STACK_SIZE;

void vm_fail(struct hv_vm *vm, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (__atomic_exchange_n(&vm->end_claimed, true, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One call, so the line is not interleaved with another domain's. */
	fprintf(stderr, "hv: %s: %s\n", vm->name, msg);
	vm->status = code;
	__atomic_store_n(&vm->ended, true, __ATOMIC_SEQ_CST);
	if (vm->thread_running && !pthread_equal(pthread_self(), vm->thread))
		vm_kick(vm);
}

uint64_t vm_guest_now(const struct hv_vm *vm)
{
	return (uint64_t)(((unsigned __int128)(hv_rdtsc() - vm->tsc_base) * vm->ns_mul) >> 32);
}

static int host_error(struct hv_vm *vm, const char *what)
{
	vm_fail(vm, HV_EXIT_UNAVAILABLE, "%s: %s", what, strerror(errno));
	return HV_EXIT_UNAVAILABLE;
}

int vm_create(struct hv_vm *vm, const struct hv_backend *be, uint64_t mem_size)
{
	vm->be = be;
	vm->stats.ns_start = hv_now_ns();
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->wake_fd < 0)
		return host_error(vm, "eventfd");
	return be->vm_create(vm, mem_size);
}

/*
 * The image's pages, W^X as its segments ask. Segments that share a page
 * (an image not linked page-aligned) give that page the union of their
 * attributes, so ranges never overlap.
 */
static unsigned image_ranges(const struct elf_image *img, struct pg_range *out)
{
	struct elf_segment seg[ELF_MAX_SEGMENTS];
	unsigned n = 0;

	memcpy(seg, img->seg, sizeof(seg));
	for (unsigned i = 1; i < img->nr_segments; i++) /* insertion sort by address */
		for (unsigned j = i; j > 0 && seg[j - 1].gpa > seg[j].gpa; j--) {
			struct elf_segment t = seg[j];
			seg[j] = seg[j - 1];
			seg[j - 1] = t;
		}
	for (unsigned i = 0; i < img->nr_segments; i++) {
		uint64_t lo = ALIGN_DOWN(seg[i].gpa, HV_PAGE_SIZE);
		uint64_t hi = ALIGN_UP(seg[i].gpa + seg[i].memsz, HV_PAGE_SIZE);
		unsigned attr = PG_USER | ((seg[i].flags & 2) ? PG_WRITE : 0) |
				((seg[i].flags & 1) ? PG_EXEC : 0);

		if (n > 0 && lo < out[n - 1].gpa + out[n - 1].size) {
			/* The shared page: take it off the previous range, give it both. */
			struct pg_range *prev = &out[n - 1];

			prev->size -= HV_PAGE_SIZE;
			unsigned both = prev->attr | attr;
			if (prev->size == 0)
				n--;
			out[n++] = (struct pg_range){ lo, HV_PAGE_SIZE, both };
			lo += HV_PAGE_SIZE;
		}
		if (lo < hi)
			out[n++] = (struct pg_range){ lo, hi - lo, attr };
	}
	return n;
}

/* Every range of the guest's address space, for the backend to map at its first entry. */
static int boot(struct hv_vm *vm, const struct elf_image *img)
{
	/*
	 * The fixed ranges, the image's (at most 2 per segment), the heap, the
	 * devices. The doorbell and the grant window have no memory behind them
	 * (an access exits, or is an ioeventfd) until a grant map adds a slot:
	 * the page tables cannot change after the first entry, memory slots can.
	 */
	struct pg_range r[11 + 2 * ELF_MAX_SEGMENTS + 2] = {
		{ HV_L_GDT, HV_PAGE_SIZE, PG_WRITE }, /* the CPU sets accessed bits */
		{ HV_L_IDT, HV_PAGE_SIZE, 0 },
		{ HV_L_TSS, HV_L_STUBS - HV_L_TSS, PG_WRITE },
		{ HV_L_STUBS, HV_PAGE_SIZE, PG_EXEC },
		{ HV_L_FSTACK, HV_L_FSTACK_TOP - HV_L_FSTACK, PG_WRITE },
		{ HV_L_BOOT_INFO, HV_L_SHARED - HV_L_BOOT_INFO, PG_USER },
		{ HV_L_SHARED, HV_PAGE_SIZE, PG_USER | PG_WRITE },
		{ vm->stack_lo, vm->stack_hi - vm->stack_lo, PG_USER | PG_WRITE },
		{ HV_L_SEND_RING, HV_PAGE_SIZE, PG_USER | PG_WRITE },
		{ HV_SEND_DOORBELL, HV_PAGE_SIZE, PG_USER | PG_WRITE },
		{ HV_GRANT_WINDOW, HV_GRANT_WINDOW_SIZE, PG_USER | PG_WRITE },
	};
	unsigned n = 11;

	n += image_ranges(img, r + n);
	if (vm->heap_hi > vm->heap_lo)
		r[n++] = (struct pg_range){ vm->heap_lo, vm->heap_hi - vm->heap_lo,
					    PG_USER | PG_WRITE };
	/* No memory slot behind the windows: every access the guest makes is an MMIO exit. */
	if (vm->nr_devices)
		r[n++] = (struct pg_range){ HV_DEVICE_BASE,
					    (uint64_t)vm->nr_devices * HV_DEVICE_WINDOW,
					    PG_USER | PG_WRITE };
	return vm->be->vm_boot(vm, r, n);
}

static int write_args(struct hv_vm *vm, struct hv_boot_info *bi, int argc, char **argv)
{
	uint64_t off = 0;

	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]) + 1;

		if (len > HV_ARGS_MAX - off) {
			vm_fail(vm, HV_EXIT_USAGE, "guest arguments too long: hv passes at most %u "
				"bytes (NULs included)", HV_ARGS_MAX);
			return HV_EXIT_USAGE;
		}
		memcpy(vm->mem + HV_L_ARGS + off, argv[i], len);
		off += len;
	}
	bi->args = HV_L_ARGS;
	bi->argc = (uint32_t)argc;
	bi->args_size = (uint32_t)off;
	return 0;
}

static void add_mem(struct hv_boot_info *bi, uint64_t gpa, uint64_t size, uint32_t type)
{
	bi->mem[bi->nr_mem++] = (struct hv_mem_region){ .gpa = gpa, .size = size, .type = type };
}

int vm_load(struct hv_vm *vm, const struct hv_image *image, int argc, char **argv)
{
	struct hv_boot_info *bi = (struct hv_boot_info *)(vm->mem + HV_L_BOOT_INFO);
	struct elf_image img;
	char err[256], have[32], need[32];
	int rc;

	vm->image = *image;
	if (elf_parse(image->data, image->size, HV_IMAGE_BASE, HV_MEM_MAX - above_image, &img, err,
		      sizeof(err))) {
		vm_fail(vm, HV_EXIT_IMAGE, "%s", err);
		return HV_EXIT_IMAGE;
	}
	if (vm->mem_size < above_image || img.hi > vm->mem_size - above_image) {
		format_size(vm->mem_size, have, sizeof(have));
		format_size(ALIGN_UP(img.hi + above_image, 1 << 20), need, sizeof(need));
		vm_fail(vm, HV_EXIT_USAGE, "--mem=%s is too small for this image (it needs at least %s)",
			have, need);
		return HV_EXIT_USAGE;
	}
	vm->entry = img.entry;
	vm->image_lo = img.lo;
	vm->image_hi = img.hi;
	vm->stack_hi = vm->mem_size;
	vm->stack_lo = vm->stack_hi - HV_STACK_SIZE;
	vm->heap_lo = ALIGN_UP(img.hi, HV_PAGE_SIZE);
	vm->heap_hi = vm->stack_lo - HV_STACK_GUARD;
	/*
	 * hv writes the boot area and the image now, and the guest starts on the
	 * top of its stack: one call allocates those pages instead of a fault per
	 * page (tens of microseconds each on a nested host). Only a hint.
	 */
	(void)madvise(vm->mem + HV_L_SEND_RING, ALIGN_UP(img.hi, HV_PAGE_SIZE) - HV_L_SEND_RING,
		      MADV_POPULATE_WRITE);
	(void)madvise(vm->mem + vm->stack_hi - HV_STACK_PREFAULT, HV_STACK_PREFAULT,
		      MADV_POPULATE_WRITE);
	elf_load(image->data, &img, vm->mem);

	bi->magic = HV_BOOT_MAGIC;
	bi->abi_version = HV_ABI_VERSION;
	bi->domid = vm->domid;
	bi->flags = vm->linux_calls ? HV_BOOT_LINUX_CALLS : 0;
	bi->send_ring = HV_L_SEND_RING;
	bi->send_doorbell = HV_SEND_DOORBELL;
	bi->grant_window = HV_GRANT_WINDOW;
	bi->grant_window_size = HV_GRANT_WINDOW_SIZE;
	bi->shared_info = HV_L_SHARED;
	add_mem(bi, 0, HV_IMAGE_BASE, HV_MEM_HV);
	add_mem(bi, HV_L_SHARED, HV_PAGE_SIZE, HV_MEM_SHARED);
	add_mem(bi, vm->image_lo, vm->image_hi - vm->image_lo, HV_MEM_IMAGE);
	add_mem(bi, vm->heap_lo, vm->heap_hi - vm->heap_lo, HV_MEM_RAM);
	add_mem(bi, vm->stack_lo, vm->stack_hi - vm->stack_lo, HV_MEM_STACK);
	for (unsigned i = 0; i < vm->nr_devices; i++) {
		const struct virtio_dev *d = vm->devices[i];

		bi->devices[bi->nr_devices++] = (struct hv_device){
			.type = HV_DEV_VIRTIO_MMIO,
			.virtio_id = d->be->virtio_id,
			.gpa = d->gpa,
			.size = HV_DEVICE_WINDOW,
			.port = d->port,
			.nr_queues = d->be->nr_queues,
		};
	}
	rc = write_args(vm, bi, argc, argv);
	if (rc)
		return rc;
	return boot(vm, &img);
}

void vm_start_clock(struct hv_vm *vm)
{
	struct hv_boot_info *bi = (struct hv_boot_info *)(vm->mem + HV_L_BOOT_INFO);

	vm->ns_mul = (1000000000ull << 32) / vm->tsc_hz;
	vm->tsc_base = hv_rdtsc();
	bi->tsc_hz = vm->tsc_hz;
	bi->tsc_base = vm->tsc_base;
}

void vm_destroy(struct hv_vm *vm)
{
	gdb_end(vm); /* when the domain never ran */
	virtio_devs_destroy(vm);
	send_ring_free(vm);
	gnttab_domain_free(vm);
	evtchn_domain_free(vm);
	symbols_free(&vm->syms);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	if (vm->be)
		vm->be->vm_destroy(vm);
}
