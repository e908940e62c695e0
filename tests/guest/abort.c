/* SPDX-License-Identifier: MIT */
/*
 * Guest test: abort() ends the appliance the way a shell reports SIGABRT, 128 + 6.
 * expect-status: 134
 * expect-stdout: libos: killed by signal 6
 */
#include <stdlib.h>

int main(void)
{
	abort();
}
