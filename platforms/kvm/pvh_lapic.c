/* SPDX-License-Identifier: MIT */
/*
 * The local APIC (SDM vol. 3A chapter 11): enabled with a spurious vector,
 * the legacy 8259 inputs masked, its timer one-shot for block() deadlines,
 * and the EOI. xAPIC registers by MMIO; if the firmware left the APIC in
 * x2APIC mode, the same registers as MSRs (11.12.1.2).
 */
#include <stdint.h>

#include "pvh.h"
#include "pvh_cpu_x86_64.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ADDR_MASK 0xffffff000ull
#define MSR_X2APIC_FIRST 0x800 /* register at MMIO offset o is MSR 0x800 + o / 16 */

/* Register offsets (SDM vol. 3A table 11-1). */
#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0

#define SVR_ENABLE 0x100
#define LVT_MASKED (1u << 16)
#define LVT_NMI (4u << 8)     /* delivery mode NMI */
#define TIMER_DIVIDE_BY_1 0xb /* the timer counts at the APIC's bus clock */

static uintptr_t mmio_base;
static int x2apic;

static uint32_t lapic_read(unsigned reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_FIRST + reg / 16);
	return mmio_read32(mmio_base + reg);
}

static void lapic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_FIRST + reg / 16, v);
	else
		mmio_write32(mmio_base + reg, v);
}

void pvh_lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE)) {
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_APIC_BASE, base);
	}
	x2apic = (base & APIC_BASE_X2APIC) != 0;
	mmio_base = (uintptr_t)(base & APIC_BASE_ADDR_MASK);
	lapic_write(LAPIC_TPR, 0); /* accept every priority class */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED); /* the 8259 stays out: IRQs come by IO APIC */
	lapic_write(LAPIC_LVT_LINT1, LVT_NMI);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | PVH_VECTOR_TIMER);
	lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
	lapic_write(LAPIC_SVR, SVR_ENABLE | PVH_VECTOR_SPURIOUS);
}

uint32_t pvh_lapic_id(void)
{
	uint32_t id = lapic_read(LAPIC_ID);

	return x2apic ? id : id >> 24;
}

void pvh_lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* One-shot (LVT timer mode 00): counts ticks down once, then interrupts unless masked. */
void pvh_lapic_timer_start(uint32_t ticks, int masked)
{
	lapic_write(LAPIC_LVT_TIMER, (masked ? LVT_MASKED : 0) | PVH_VECTOR_TIMER);
	lapic_write(LAPIC_TIMER_INITIAL, ticks);
}

uint32_t pvh_lapic_timer_count(void)
{
	return lapic_read(LAPIC_TIMER_CURRENT);
}

/* An initial count of 0 stops the timer (SDM vol. 3A 11.5.4). */
void pvh_lapic_timer_stop(void)
{
	lapic_write(LAPIC_TIMER_INITIAL, 0);
}
