/* SPDX-License-Identifier: MIT */
/*
 * Ending the guest on QEMU: a write to the isa-debug-exit device, or, where
 * there is none, a triple fault.
 *
 * QEMU's isa-debug-exit (hw/misc/debugexit.c) exits with (value << 1) | 1,
 * and the host keeps the low 8 bits of that, so only statuses 0-127 survive:
 *
 *   guest status s    QEMU exit code        what `make run-qemu` reports
 *   0 .. 127          2s + 1 (1 .. 255)     s
 *   128 .. 255        2(s - 128) + 1        s - 128   (abort's 134 arrives as 6,
 *                                                      panic's 255 as 127)
 *
 * The top bit is dropped here, on purpose and visibly, rather than by the
 * shift. Other exit codes are QEMU's own: 0 when the guest reset or shut
 * down without the device (the triple fault below, under -no-reboot), and
 * 1, the same as status 0, when QEMU cannot start at all; mk/qemu-run.sh
 * tells those two apart by QEMU's message on stderr.
 */
#include "libos.h"
#include "pvh.h"
#include "pvh_cpu_x86_64.h"

#define DEBUG_EXIT_PORT 0xf4 /* -device isa-debug-exit,iobase=0xf4,iosize=4 */
#define DEBUG_EXIT_MASK 0x7f

/*
 * With no IDT, the breakpoint cannot be delivered, nor the #GP nor #DF that
 * follow: the CPU shuts down (SDM vol. 3A 6.15, "Interrupt 8"), and QEMU
 * resets or, with -no-reboot, exits with 0.
 */
static _Noreturn void triple_fault(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
	for (;;)
		__asm__ volatile("cli; hlt");
}

/*
 * QEMU 10's isa-debug-exit asks its main loop to shut down (the runstate
 * API) rather than exiting on the spot, so the guest runs on for a moment
 * after the write (seen here: long enough to print a line): give it
 * half a second (at a 4 GHz guess before the TSC is measured) before
 * concluding that there is no such device.
 */
static void wait_for_exit(void)
{
	uint64_t start = rdtsc(), span = (pvh_tsc_hz ? pvh_tsc_hz : 4000000000ull) / 2;

	while (rdtsc() - start < span)
		__builtin_ia32_pause();
}

_Noreturn void pvh_exit(int status)
{
	if (pvh_on_xen)
		xen_exit(status);
	irq_disable();
	if (pvh_debug)
		pvh_idt_report();
	outl(DEBUG_EXIT_PORT, (uint32_t)status & DEBUG_EXIT_MASK);
	wait_for_exit();
	/* Still here: QEMU has no isa-debug-exit device. Say what is lost, then stop. */
	pvh_printf("pvh: exit status %d: no isa-debug-exit device at port 0x%x, so QEMU ends "
		   "by a triple fault (exit code 0 under -no-reboot)\n",
		   status, DEBUG_EXIT_PORT);
	triple_fault();
}
