/* SPDX-License-Identifier: MIT */
/* The console: unbuffered writes through the platform (stdio does the buffering). */
#include "kernel.h"
#include "libos.h"

void console_write(const char *buf, size_t len)
{
	if (len)
		platform->console_write(buf, len);
}
