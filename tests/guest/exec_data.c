/* SPDX-License-Identifier: MIT */
/*
 * Guest test: data is mapped no-execute (W^X).
 * expect-status: 80
 * expect-stderr: page fault (#PF), vector 14
 * expect-stderr: (execute: page not executable)
 */
static unsigned char ret_insn[16] = { 0xc3 };

int main(void)
{
	void (*fn)(void) = (void (*)(void))(void *)ret_insn;

	fn();
	return 0;
}
