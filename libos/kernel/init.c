/* SPDX-License-Identifier: MIT */
/* libos's init sequence, one step per line, from the platform's boot to the app's main(). */
#include <stdlib.h>
#include <string.h>

#include "fd.h"
#include "kernel.h"
#include "libos.h"
#include "virtio_drivers.h"

/* In the image only with what uses them (kernel.h, virtio_drivers.h); NULL otherwise. */
#pragma weak gnttab_init
#pragma weak virtio_init

const struct platform *platform;
int libos_argc;
char **libos_argv;
uint16_t libos_boot_domid;
extern int main(int argc, char **argv);
extern void __libc_init_array(void);
extern char __bss_start[], _end[];

void libos_clear_bss(void)
{
	memset(__bss_start, 0, (size_t)(_end - __bss_start));
}

/* argv on the heap, so the app may write to its arguments like any C program. */
static char **make_argv(const struct boot *boot)
{
	char **argv = malloc((boot->argc + 1) * sizeof(char *));
	char *copy = malloc(boot->args_size + 1);
	size_t off = 0;

	if (!argv || !copy)
		panic("make_argv: no memory for %u arguments", boot->argc);
	memcpy(copy, boot->args, boot->args_size);
	copy[boot->args_size] = '\0';
	for (unsigned i = 0; i < boot->argc; i++) {
		if (off >= boot->args_size)
			panic("make_argv: %u arguments do not fit %zu bytes", boot->argc,
			      boot->args_size);
		argv[i] = copy + off;
		off += strlen(copy + off) + 1;
	}
	argv[boot->argc] = NULL;
	return argv;
}

_Noreturn void libos_start(const struct boot *boot)
{
	platform = boot->platform;
	clock_init(boot->tsc_hz, boot->tsc_base);
	memory_init(boot);
	sched_init();
	fd_init();
	evtchn_init(boot);
	if (gnttab_init)
		gnttab_init(boot);
	libos_boot_domid = boot->domid;
	if (virtio_init)
		virtio_init(boot);
	if (platform->attach_devices)
		platform->attach_devices();
	if (fs_init)
		fs_init();
	__libc_init_array();
	libos_argv = make_argv(boot);
	libos_argc = (int)boot->argc;
	if (net_boot)
		net_boot();
	exit(main(libos_argc, libos_argv));
}
