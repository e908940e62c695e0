/* SPDX-License-Identifier: MIT */
/* Choosing the backend: --backend, HV_BACKEND, or the first of kvm and proc that can run here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "hv.h"

int backend_choose(const char *name, const struct hv_backend **be)
{
	int rc;

	if (!name || !*name || !strcmp(name, "auto")) {
		/* Quietly: a host without /dev/kvm is an ordinary place to run. */
		if (hv_backend_kvm.open(true) == 0) {
			*be = &hv_backend_kvm;
			return 0;
		}
		name = "proc";
	}
	if (!strcmp(name, "kvm"))
		*be = &hv_backend_kvm;
	else if (!strcmp(name, "proc"))
		*be = &hv_backend_proc;
	else {
		fprintf(stderr, "hv: HV_BACKEND=%s: the backends are kvm, proc and auto\n", name);
		return HV_EXIT_USAGE;
	}
	rc = (*be)->open(false);
	return rc;
}

void backend_print_auto(FILE *f)
{
	if (hv_backend_kvm.open(true) == 0)
		fprintf(f, "On this host --backend=auto runs guests on kvm (/dev/kvm is usable).\n");
	else
		fprintf(f, "On this host --backend=auto runs guests on proc (/dev/kvm: %s).\n",
			strerror(errno));
}
