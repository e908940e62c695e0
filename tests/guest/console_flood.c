/* SPDX-License-Identifier: MIT */
/*
 * Guest test: a guest that floods its console meets --console-max. It writes 64 KiB lines of
 * text with the raw hypercall until one is refused with -ENOSPC, which must come at the
 * budget hv was given (256K here: four lines fit, the fifth does not), and stays refused;
 * hv says so once on stderr and writes nothing more.
 * hv-options: --console-max=256K
 * expect-status: 0
 * expect-stderr: console output reached --console-max (262144 bytes); more is dropped
 */
#include <errno.h>
#include <string.h>

#include "hv_test.h"

#define LINE 65536

static char line[LINE];

static int64_t say(const char *buf, uint64_t len)
{
	struct hv_console_write c = { .buf = (uintptr_t)buf, .len = len };

	hv_test_hypercall(HV_CALL_CONSOLE_WRITE, &c);
	return c.ret;
}

int main(void)
{
	int written = 0;

	memset(line, 'x', LINE - 1);
	line[LINE - 1] = '\n';
	while (written < 100 && say(line, LINE) == LINE)
		written++;
	EXPECT_EQ(written, 4);
	EXPECT_EQ(say(line, LINE), -ENOSPC);
	EXPECT_EQ(say("y\n", 2), -ENOSPC);
	return 0;
}
