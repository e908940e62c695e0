/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a hypercall number hv does not know ends the VM with its number.
 * expect-status: 81
 * expect-stderr: unknown hypercall 63
 */
#include <stdint.h>

#include "hv_abi.h"

int main(void)
{
	static uint64_t block[8];

	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"((uint32_t)(uintptr_t)block), "Nd"((uint16_t)HV_PORT(63))
			 : "memory");
	return 0;
}
