/* SPDX-License-Identifier: MIT */
/* panic(): say what broke and where, then end the appliance. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel.h"
#include "libos.h"

/* Return addresses up the frame-pointer chain (libos and newlib keep frame pointers). */
static void backtrace(char *buf, size_t len)
{
	const uintptr_t *fp = __builtin_frame_address(0);
	size_t used = 0;

	for (int depth = 0; depth < 16 && fp && used < len; depth++) {
		int n = snprintf(buf + used, len - used, " 0x%lx", (unsigned long)fp[1]);

		if (n < 0)
			break;
		used += (size_t)n;
		if ((const uintptr_t *)fp[0] <= fp) /* the chain must go up the stack */
			break;
		fp = (const uintptr_t *)fp[0];
	}
}

_Noreturn void panic(const char *fmt, ...)
{
	static char msg[512];
	static int nested;
	va_list ap;
	int n;

	if (nested++) /* a panic while panicking: say so without formatting anything */
		platform->exit(LIBOS_PANIC_STATUS);
	n = snprintf(msg, sizeof(msg), "libos: panic: ");
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strlen(msg);
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, "\nlibos: backtrace:");
	backtrace(msg + n, sizeof(msg) - (size_t)n - 1);
	strcat(msg, "\n");
	console_write(msg, strlen(msg));
	platform->exit(LIBOS_PANIC_STATUS);
}
