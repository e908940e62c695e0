/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a null-pointer read is a page fault reported with its address, RIP's symbol,
 * the registers (the null pointer is read_through's argument, in rdi) and a backtrace.
 * expect-status: 80
 * expect-stderr: page fault (#PF), vector 14
 * expect-stderr: address 0x0 (read: null pointer dereference)
 * expect-stderr: rdi 0x0000000000000000
 * expect-stderr: rip 0x0000000000100010 rflags 0x
 * expect-stderr: <read_through+
 * expect-stderr: <main+
 */
#include <stdint.h>

/* The pointer comes from argc, so the compiler cannot see it is null. */
__attribute__((noinline)) static int read_through(volatile int *p)
{
	return *p;
}

int main(int argc, char **argv)
{
	(void)argv;
	/* Using the result keeps main on the stack: no tail call. */
	return read_through((volatile int *)(uintptr_t)(argc - 1)) + 1;
}
