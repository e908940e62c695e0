/* SPDX-License-Identifier: MIT */
/*
 * Guest test: an integer division by zero is reported as a divide error, not a page fault.
 * expect-status: 80
 * expect-stderr: divide error (#DE), vector 0
 * expect-stderr: <divide
 */
__attribute__((noinline)) static int divide(int a, int b)
{
	return a / b;
}

int main(int argc, char **argv)
{
	(void)argv;
	return divide(100, argc - 1);
}
