/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a hypercall port used with a byte-wide out is refused with a message.
 * expect-status: 81
 * expect-stderr: used with out of size 1
 */
#include <stdint.h>

#include "hv_abi.h"

int main(void)
{
	__asm__ volatile("outb %%al, %w0" : : "Nd"((uint16_t)HV_PORT(HV_CALL_EXIT)), "a"(0));
	return 0;
}
