/* SPDX-License-Identifier: MIT */
/*
 * Guest test: an undefined instruction is reported as #UD.
 * expect-status: 80
 * expect-stderr: invalid opcode (#UD), vector 6
 * expect-stderr: <main+
 */
int main(void)
{
	__asm__ volatile("ud2");
	return 0;
}
