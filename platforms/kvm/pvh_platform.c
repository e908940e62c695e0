/* SPDX-License-Identifier: MIT */
/*
 * The platform ops on QEMU: console on COM1, wall clock from the CMOS RTC,
 * exit through isa-debug-exit, and block() as a real halt woken by device
 * interrupts or by the LAPIC timer set for the deadline.
 */
#include <stdint.h>

#include "hv_abi.h"
#include "libos.h"
#include "pvh.h"
#include "pvh_cpu_x86_64.h"

static uint64_t lapic_ticks_per_ns_q32; /* LAPIC timer ticks per ns, times 2^32 */
static int have_irq_sources;

void pvh_platform_init(uint64_t lapic_hz, int irq_sources)
{
	lapic_ticks_per_ns_q32 = (lapic_hz << 32) / 1000000000ull;
	have_irq_sources = irq_sources;
}

static void pvh_console_write(const char *buf, size_t len)
{
	pvh_serial_write(buf, len);
}

static void pvh_wallclock(uint64_t *realtime_ns, uint64_t *tsc)
{
	*realtime_ns = pvh_rtc_read_ns();
	*tsc = rdtsc();
}

/* Rounded up, so the timer never fires before the deadline; at most the 32-bit counter's span. */
static uint32_t lapic_ticks(uint64_t ns)
{
	uint64_t ticks = (uint64_t)(((unsigned __int128)ns * lapic_ticks_per_ns_q32) >> 32) + 1;

	return ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
}

/*
 * Interrupts are off from the check of the upcall flag to the halt, and
 * `sti; hlt` lets none in between (pvh_cpu_x86_64.h): an event raised after
 * the check is pending in the LAPIC and ends the halt at once, so no
 * wake-up is lost (the guarantee hv's block hypercall gives). A deadline
 * beyond the timer's span ends the halt early; callers recheck and block again.
 */
static void pvh_block(uint64_t deadline_ns)
{
	irq_disable();
	if (__atomic_load_n(&pvh_shared_info.vcpu_info[0].evtchn_upcall_pending, __ATOMIC_SEQ_CST))
		goto out;
	if (deadline_ns != HV_DEADLINE_NONE) {
		uint64_t now = clock_monotonic_ns();

		if (now >= deadline_ns)
			goto out;
		pvh_lapic_timer_start(lapic_ticks(deadline_ns - now), 0);
	} else if (!have_irq_sources) {
		pvh_printf("pvh: guest blocked with no deadline and nothing that could wake it\n");
		pvh_exit(PVH_EXIT_HANG);
	}
	irq_enable_and_halt();
	irq_disable();
	pvh_lapic_timer_stop();
out:
	irq_enable();
}

const struct platform pvh_platform = {
	.name = "qemu-pvh",
	.console_write = pvh_console_write,
	.wallclock = pvh_wallclock,
	.block = pvh_block,
	.exit = pvh_exit,
};
