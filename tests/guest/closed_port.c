/* SPDX-License-Identifier: MIT */
/*
 * Guest test: ports outside the hypercall range are closed to ring 3 by the TSS I/O bitmap.
 * expect-status: 80
 * expect-stderr: general protection fault (#GP), vector 13
 */
int main(void)
{
	__asm__ volatile("outb %%al, $0x80" : : "a"(0));
	return 0;
}
