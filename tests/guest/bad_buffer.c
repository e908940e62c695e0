/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a console write whose buffer lies outside guest memory ends the VM, naming it.
 * expect-status: 81
 * expect-stderr: console_write: buffer [0xfff00000, +0x10) is outside guest memory
 */
#include <stdint.h>

#include "hv_abi.h"

int main(void)
{
	static struct hv_console_write c = { .buf = 0xfff00000u, .len = 16 };

	__asm__ volatile("outl %0, %w1"
			 :
			 : "a"((uint32_t)(uintptr_t)&c), "Nd"((uint16_t)HV_PORT(HV_CALL_CONSOLE_WRITE))
			 : "memory");
	return 0;
}
