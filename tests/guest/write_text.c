/* SPDX-License-Identifier: MIT */
/*
 * Guest test: the image's code is mapped read-only (W^X).
 * expect-status: 80
 * expect-stderr: page fault (#PF), vector 14
 * expect-stderr: (write: page read-only)
 */
int main(void)
{
	volatile unsigned char *code = (volatile unsigned char *)(void *)main;

	code[0] = 0xc3;
	return 0;
}
