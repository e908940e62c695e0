/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a privileged instruction in ring 3 is a general protection fault.
 * expect-status: 80
 * expect-stderr: general protection fault (#GP), vector 13
 */
int main(void)
{
	__asm__ volatile("cli");
	return 0;
}
