/* SPDX-License-Identifier: MIT */
/*
 * Guest test: blocking with no deadline when nothing can send an event is a hang hv reports.
 * expect-status: 82
 * expect-stderr: guest blocked with no deadline and nothing that could wake it
 */
#include <stdint.h>

#include "hv_abi.h"

int main(void)
{
	static struct hv_block b = { .deadline_ns = HV_DEADLINE_NONE };

	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"((uint32_t)(uintptr_t)&b), "Nd"((uint16_t)HV_PORT(HV_CALL_BLOCK))
			 : "memory");
	return 0;
}
