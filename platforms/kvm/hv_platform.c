/* SPDX-License-Identifier: MIT */
/* The hv platform: boot info to struct boot, and hypercalls by port I/O from ring 3. */
#include <stdint.h>

#include "hv_abi.h"

/*
 * Tunables: how long an idle guest polls for an event before it blocks in
 * hv, when a driver is owed a completion, and when none is.
 */
#define HV_IDLE_POLL_NS 200000
#define HV_IDLE_SPIN_NS 5000
#include "libos.h"
#include "platform.h"

/* The gpa of the argument block goes out on the call's port; hv answers in the block. */
static inline void hypercall(enum hv_call call, void *arg)
{
	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"((uint32_t)(uintptr_t)arg), "Nd"((uint16_t)HV_PORT(call))
			 : "memory");
}

static void hv_console_write(const char *buf, size_t len)
{
	struct hv_console_write c = { .buf = (uintptr_t)buf, .len = len };

	hypercall(HV_CALL_CONSOLE_WRITE, &c);
}

static void hv_wallclock(uint64_t *realtime_ns, uint64_t *tsc)
{
	struct hv_wallclock w = { 0 };

	hypercall(HV_CALL_WALLCLOCK, &w);
	*realtime_ns = w.realtime_ns;
	*tsc = w.tsc;
}

/*
 * On hv's proc backend the guest is a Linux process, and a trap to hv costs
 * tens of microseconds where a system call costs one: there hv lets it kick
 * and block by these (HV_BOOT_LINUX_CALLS in hv_abi.h). Nowhere else.
 */
#define LINUX_WRITE 1
#define LINUX_FUTEX 202
#define LINUX_FUTEX_WAIT 0

static bool linux_calls;
static struct boot boot;

#pragma weak evtchn_virqs_bound

static long linux_call(long nr, long a0, long a1, long a2, long a3)
{
	register long r10 __asm__("r10") = a3;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Only reached through a kick_fd, which hv_start sets only with the Linux calls. */
static bool hv_kick(int fd)
{
	static const uint64_t one = 1;

	return linux_call(LINUX_WRITE, fd, (long)&one, sizeof(one), 0) == 8;
}

/*
 * hv_abi.h's futex block, until deadline_ns at the latest: only with every
 * send taken (a block hypercall would drain the ring first) and no VIRQ
 * bound (only hv's block makes the timer's pending). Returns whether it
 * waited. Spinning a while before it was measured and lost: on two CPUs the
 * spin is the sender's time.
 */
static bool futex_block(uint64_t deadline_ns)
{
	struct hv_vcpu_info *v = &boot.shared_info->vcpu_info[0];
	struct hv_send_ring *r = boot.send_ring;
	struct { int64_t sec, nsec; } timeout;
	uint64_t now;

	if (!linux_calls || (&evtchn_virqs_bound && evtchn_virqs_bound) ||
	    __atomic_load_n(&r->cons, __ATOMIC_ACQUIRE) != r->prod)
		return false;
	__atomic_store_n(&v->wait, 1, __ATOMIC_SEQ_CST);
	now = clock_monotonic_ns();
	if (!__atomic_load_n(&v->evtchn_upcall_pending, __ATOMIC_SEQ_CST) && now < deadline_ns) {
		timeout.sec = (int64_t)((deadline_ns - now) / 1000000000u);
		timeout.nsec = (int64_t)((deadline_ns - now) % 1000000000u);
		linux_call(LINUX_FUTEX, (long)&v->wait, LINUX_FUTEX_WAIT, 1, (long)&timeout);
	}
	__atomic_store_n(&v->wait, 0, __ATOMIC_SEQ_CST);
	return true;
}

/*
 * A block with no deadline goes to hv, which must see a guest that waits
 * forever (it ends it). It is also where a disk driver waits for a
 * completion, and there a futex wait measured slower than the hypercall:
 * 1 MiB sequential reads on proc ran at 2.9 GB/s against 5.5-7.3.
 */
static void hv_block(uint64_t deadline_ns)
{
	struct hv_block b = { .deadline_ns = deadline_ns };

	if (deadline_ns == HV_DEADLINE_NONE || !futex_block(deadline_ns))
		hypercall(HV_CALL_BLOCK, &b);
}

/* Event channels, grants and the store: the block carries the call's result back. */
static void hv_pv_call(unsigned call, void *arg)
{
	hypercall((enum hv_call)call, arg);
}

static _Noreturn void hv_exit(int status)
{
	struct hv_exit e = { .status = status };

	for (;;)
		hypercall(HV_CALL_EXIT, &e);
}

static const struct platform hv_platform = {
	.name = "hv",
	.console_write = hv_console_write,
	.wallclock = hv_wallclock,
	.block = hv_block,
	/* A block is an exit to hv's user space (15-25 us here); a reply is often sooner. */
	.idle_poll_ns = HV_IDLE_POLL_NS,
	/*
	 * Even a block by futex on proc is a wake-up later, dear on a nested
	 * host: with 5 us, kvstore under redis-benchmark (50 clients) went from
	 * 43-48k to 51-57k requests/s (redis-server: 46-50k), alternating; one
	 * TCP stream and httpd under wrk stayed within the noise.
	 */
	.idle_spin_ns = HV_IDLE_SPIN_NS,
	.pv_call = hv_pv_call,
	.kick = hv_kick,
	.exit = hv_exit,
};

static void fail(const char *msg)
{
	const char *end = msg;

	while (*end)
		end++;
	hv_console_write(msg, (size_t)(end - msg));
	hv_exit(LIBOS_PANIC_STATUS);
}

_Noreturn void hv_start(const struct hv_boot_info *bi);

/* No libos_clear_bss() here: hv loads images into fresh zeroed memory (hv_abi.h), and
 * clearing would touch every .bss page (megabytes with lwIP) at ~5 us each. */
_Noreturn void hv_start(const struct hv_boot_info *bi)
{
	if (bi->magic != HV_BOOT_MAGIC || bi->abi_version != HV_ABI_VERSION)
		fail("libos: boot info from hv has the wrong magic or ABI version\n");
	boot.platform = &hv_platform;
	linux_calls = bi->flags & HV_BOOT_LINUX_CALLS;
	boot.tsc_hz = bi->tsc_hz;
	boot.tsc_base = bi->tsc_base;
	for (uint32_t i = 0; i < bi->nr_mem && i < HV_MAX_MEM_REGIONS; i++) {
		if (bi->mem[i].type != HV_MEM_RAM)
			continue;
		if (boot.nr_ram == BOOT_MAX_RAM)
			fail("libos: hv reported more RAM regions than libos takes\n");
		boot.ram[boot.nr_ram++] = (struct boot_ram){ bi->mem[i].gpa, bi->mem[i].size };
	}
	for (uint32_t i = 0; i < bi->nr_devices && i < HV_MAX_DEVICES; i++) {
		const struct hv_device *d = &bi->devices[i];

		if (d->type != HV_DEV_VIRTIO_MMIO)
			continue;
		if (boot.nr_devices == BOOT_MAX_DEVICES)
			fail("libos: hv reported more devices than libos takes\n");
		boot.devices[boot.nr_devices++] = (struct boot_device){
			.base = d->gpa, .size = d->size, .port = d->port, .nr_ports = d->nr_queues,
			.kick_fd = linux_calls ? HV_KICK_FD(i, 0) : 0,
		};
	}
	boot.shared_info = (struct hv_shared_info *)(uintptr_t)bi->shared_info;
	boot.args = (const char *)(uintptr_t)bi->args;
	boot.argc = bi->argc;
	boot.args_size = bi->args_size;
	boot.domid = (uint16_t)bi->domid;
	boot.send_ring = (struct hv_send_ring *)(uintptr_t)bi->send_ring;
	boot.send_doorbell = (volatile uint32_t *)(uintptr_t)bi->send_doorbell;
	boot.grant_window = bi->grant_window;
	boot.grant_window_size = bi->grant_window_size;
	libos_start(&boot);
}
