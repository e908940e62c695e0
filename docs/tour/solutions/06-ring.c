/* SPDX-License-Identifier: MIT */
/*
 * The tour's exercise 6 (docs/tour/06-ring3.md), as apps/ring/ring.c: the privilege level
 * this guest runs at, read from its code segment selector, whose low two bits are the
 * current privilege level (reading a segment register is allowed in every ring). With the
 * argument "cli" it then tries to turn interrupts off, which only ring 0 may do.
 *
 *   build/hv build/apps/ring.img [cli]
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	printf("CS 0x%x: ring %u\n", cs, cs & 3);
	if (argc > 1 && strcmp(argv[1], "cli") == 0) {
		fflush(stdout);
		__asm__ volatile("cli");
		puts("cli went through");
	}
	return (cs & 3) == 3 ? 0 : 1;
}
