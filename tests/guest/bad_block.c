/* SPDX-License-Identifier: MIT */
/*
 * Guest test: an argument block inside hv's own area is refused (hv writes results there).
 * expect-status: 81
 * expect-stderr: wallclock: argument block at 0x2000 is outside guest memory
 */
#include <stdint.h>

#include "hv_abi.h"

int main(void)
{
	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"(0x2000u), "Nd"((uint16_t)HV_PORT(HV_CALL_WALLCLOCK))
			 : "memory");
	return 0;
}
